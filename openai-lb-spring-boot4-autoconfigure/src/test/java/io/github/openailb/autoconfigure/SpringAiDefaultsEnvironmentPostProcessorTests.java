package io.github.openailb.autoconfigure;

import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

class SpringAiDefaultsEnvironmentPostProcessorTests {

	private final SpringAiDefaultsEnvironmentPostProcessor processor = new SpringAiDefaultsEnvironmentPostProcessor();

	@Test
	void suppliesWhatTheSdkNeedsWhenTheUserSetNothing() {
		MockEnvironment environment = new MockEnvironment();
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty("spring.ai.openai.base-url")).isEqualTo("http://openai-lb");
		assertThat(environment.getProperty("spring.ai.openai.api-key")).isEqualTo("openai-lb");
		assertThat(environment.getProperty("spring.ai.openai.max-retries")).isEqualTo("0");
		assertThat(environment.getProperty("spring.ai.openai.chat.model")).isNull();
	}

	@Test
	void theDeploymentNameIsTheChatModelInAzureMode() {
		MockEnvironment environment = new MockEnvironment()
			.withProperty("spring.ai.openai.microsoft-deployment-name", "gpt-4o")
			.withProperty("openai.lb.spring-ai.sdk-max-retries", "2");
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty("spring.ai.openai.chat.model")).isEqualTo("gpt-4o");
		assertThat(environment.getProperty("spring.ai.openai.max-retries")).isEqualTo("2");
	}

	@Test
	void keepsWhatTheUserSet() {
		MockEnvironment environment = new MockEnvironment()
			.withProperty("spring.ai.openai.chat.base-url", "https://other.example.com")
			.withProperty("spring.ai.openai.microsoft-deployment-name", "gpt-4o")
			.withProperty("spring.ai.openai.chat.model", "mine")
			.withProperty("spring.ai.openai.max-retries", "4");
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty("spring.ai.openai.base-url")).isNull();
		// a real server the user chose needs the user's key, not a placeholder
		assertThat(environment.getProperty("spring.ai.openai.api-key")).isNull();
		assertThat(environment.getProperty("spring.ai.openai.chat.model")).isEqualTo("mine");
		assertThat(environment.getProperty("spring.ai.openai.max-retries")).isEqualTo("4");
	}

	@Test
	void quietsReactorNettysWarningOfEachHandledConnectionErrorEvenWithoutSpringAi() {
		SpringApplication withoutSpringAi = new SpringApplication(
				new DefaultResourceLoader(new FilteredClassLoader("org.springframework.ai", "com.azure")));
		MockEnvironment environment = new MockEnvironment();
		this.processor.postProcessEnvironment(environment, withoutSpringAi);
		assertThat(environment.getProperty("logging.level.reactor.netty.http.client.HttpClientConnect"))
			.isEqualTo("ERROR");
		assertThat(environment.getProperty("spring.ai.openai.base-url")).isNull();
	}

	@Test
	void aLevelTheUserSetForReactorNettyWins() {
		for (String logger : new String[] { "reactor", "reactor.netty", "reactor.netty.http.client.HttpClientConnect" }) {
			MockEnvironment environment = new MockEnvironment().withProperty("logging.level." + logger, "DEBUG");
			this.processor.postProcessEnvironment(environment, new SpringApplication());
			assertThat(environment.getProperty("logging.level.reactor.netty.http.client.HttpClientConnect"))
				.isEqualTo(logger.endsWith("HttpClientConnect") ? "DEBUG" : null);
		}
	}

	@Test
	void quietsTheAggregatorsLineThatRepeatsWhatTheCallerGetsUnlessTheUserSetALevel() {
		MockEnvironment environment = new MockEnvironment();
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty("logging.level.org.springframework.ai.chat.model.MessageAggregator"))
			.isEqualTo("OFF");
		MockEnvironment userSet = new MockEnvironment().withProperty("logging.level.org.springframework.ai", "WARN");
		this.processor.postProcessEnvironment(userSet, new SpringApplication());
		assertThat(userSet.getProperty("logging.level.org.springframework.ai.chat.model.MessageAggregator")).isNull();
	}

	@Test
	void doesNothingWhenTheBalancerIsOff() {
		MockEnvironment environment = new MockEnvironment().withProperty("openai.lb.enabled", "false");
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getPropertySources().contains(SpringAiDefaultsEnvironmentPostProcessor.PROPERTY_SOURCE_NAME))
			.isFalse();
	}

}
