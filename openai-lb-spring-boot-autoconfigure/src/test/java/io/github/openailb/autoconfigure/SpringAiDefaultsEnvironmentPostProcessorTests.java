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
	void suppliesWhatSpringAiNeedsWhenTheUserSetNothing() {
		MockEnvironment environment = new MockEnvironment();
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty("spring.ai.azure.openai.endpoint")).isEqualTo("https://openai-lb");
		assertThat(environment.getProperty("spring.ai.openai.base-url")).isEqualTo("http://openai-lb");
		assertThat(environment.getProperty("spring.ai.openai.api-key")).isEqualTo("openai-lb");
		assertThat(environment.getProperty("spring.ai.retry.max-attempts")).isEqualTo("1");
		assertThat(environment.getProperty("logging.level.com.azure.core.http.policy.RetryPolicy")).isEqualTo("WARN");
	}

	@Test
	void keepsWhatTheUserSet() {
		MockEnvironment environment = new MockEnvironment()
			.withProperty("spring.ai.azure.openai.endpoint", "https://mine.openai.azure.com")
			.withProperty("spring.ai.openai.base-url", "https://other.example.com")
			.withProperty("spring.ai.retry.max-attempts", "4");
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty("spring.ai.azure.openai.endpoint")).isEqualTo("https://mine.openai.azure.com");
		assertThat(environment.getProperty("spring.ai.openai.base-url")).isEqualTo("https://other.example.com");
		// a real server the user chose needs the user's key, not a placeholder
		assertThat(environment.getProperty("spring.ai.openai.api-key")).isNull();
		assertThat(environment.getProperty("spring.ai.retry.max-attempts")).isEqualTo("4");
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
	void quietsSpringAisLinesThatRepeatWhatTheCallerGets() {
		MockEnvironment environment = new MockEnvironment();
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty("logging.level.org.springframework.ai.chat.model.MessageAggregator"))
			.isEqualTo("OFF");
		assertThat(environment.getProperty(
				"logging.level.org.springframework.ai.retry.autoconfigure.SpringAiRetryAutoConfiguration"))
			.isEqualTo("ERROR");
	}

	@Test
	void retriesTheUserAskedForAreStillLoggedAndTheUsersLevelsWin() {
		MockEnvironment environment = new MockEnvironment().withProperty("spring.ai.retry.max-attempts", "3")
			.withProperty("logging.level.org.springframework.ai.chat", "ERROR");
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getProperty(
				"logging.level.org.springframework.ai.retry.autoconfigure.SpringAiRetryAutoConfiguration"))
			.isNull();
		assertThat(environment.getProperty("logging.level.org.springframework.ai.chat.model.MessageAggregator"))
			.isNull();
	}

	@Test
	void doesNothingWhenTheBalancerIsOff() {
		MockEnvironment environment = new MockEnvironment().withProperty("openai.lb.enabled", "false");
		this.processor.postProcessEnvironment(environment, new SpringApplication());
		assertThat(environment.getPropertySources().contains(SpringAiDefaultsEnvironmentPostProcessor.PROPERTY_SOURCE_NAME))
			.isFalse();
	}

}
