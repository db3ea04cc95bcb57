package io.github.openailb.autoconfigure;

import com.azure.ai.openai.OpenAIClientBuilder;
import io.github.openailb.azure.BalancingAzureHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.ai.model.azure.openai.autoconfigure.AzureOpenAIClientBuilderCustomizer;
import org.springframework.ai.openai.api.OpenAiApi;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.client.RestClientCustomizer;
import org.springframework.util.StringUtils;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(OutputCaptureExtension.class)
class OpenAiLbSpringAiAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
				OpenAiLbClientsAutoConfiguration.class, OpenAiLbSpringAiAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=http://127.0.0.1:9");

	@Test
	void installsTheBalancedClientOnSpringAisBuilder() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(BalancingAzureHttpClient.class)
				.hasSingleBean(AzureOpenAIClientBuilderCustomizer.class);
			assertThat(context.getBeansOfType(RestClientCustomizer.class)).containsKey("openAiLbThrottledStatusHandler");
			OpenAIClientBuilder builder = new OpenAIClientBuilder().endpoint("http://anything");
			context.getBean(AzureOpenAIClientBuilderCustomizer.class).customize(builder);
			// no SDK credential left: building would otherwise fail on a non-https endpoint at the first call
			assertThat(builder).extracting("tokenCredential").isNull();
			assertThat(builder).extracting("keyCredential").isNull();
			assertThat(builder).extracting("httpClient").isSameAs(context.getBean(BalancingAzureHttpClient.class));
			assertThat(builder).extracting("retryOptions.exponentialBackoffOptions.maxRetries").isEqualTo(0);
		});
	}

	@Test
	void sdkRetriesAreConfigurable() {
		this.runner.withPropertyValues("openai.lb.spring-ai.sdk-max-retries=2").run((context) -> {
			OpenAIClientBuilder builder = new OpenAIClientBuilder();
			context.getBean(AzureOpenAIClientBuilderCustomizer.class).customize(builder);
			assertThat(builder).extracting("retryOptions.exponentialBackoffOptions.maxRetries").isEqualTo(2);
		});
	}

	@Test
	void backsOffWithoutTheAzureSdk() {
		this.runner.withClassLoader(new FilteredClassLoader(OpenAIClientBuilder.class)).run((context) -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(BalancingAzureHttpClient.class);
			assertThat(context.getBeansOfType(RestClientCustomizer.class)).containsKey("openAiLbThrottledStatusHandler");
		});
	}

	@Test
	void backsOffWithoutSpringAiOpenAi() {
		this.runner.withClassLoader(new FilteredClassLoader(OpenAiApi.class)).run((context) -> {
			assertThat(context).hasNotFailed().hasSingleBean(BalancingAzureHttpClient.class);
			assertThat(context.getBeansOfType(RestClientCustomizer.class))
				.doesNotContainKey("openAiLbThrottledStatusHandler");
		});
	}

	@Test
	void userHttpClientWins() {
		this.runner.withBean("mine", BalancingAzureHttpClient.class, () -> new BalancingAzureHttpClient(null))
			.run((context) -> assertThat(context.getBean(BalancingAzureHttpClient.class))
				.isSameAs(context.getBean("mine")));
	}

	@Test
	void aBaseUrlOfTheUsersOwnIsWarnedOfOnceByNameOnly(CapturedOutput output) {
		this.runner
			.withPropertyValues("spring.ai.openai.base-url=https://me:s3cret@mine.example.com",
					"spring.ai.openai.embedding.base-url=http://OPENAI-LB/v1")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(StringUtils.countOccurrencesOf(output.getAll(), "are not balanced")).isEqualTo(1);
		assertThat(output.getAll()).contains("WARN")
			.contains("configured by spring.ai.openai.base-url are not balanced")
			.contains("remove spring.ai.openai.base-url (or set it to http://openai-lb)")
			.doesNotContain("spring.ai.openai.embedding.base-url")
			.doesNotContain("s3cret")
			.doesNotContain("mine.example.com");
	}

	@Test
	void noWarningWhenSpringAiUsesTheBalancer(CapturedOutput output) {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		this.runner.withPropertyValues("spring.ai.openai.base-url=http://openai-lb")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output.getAll()).doesNotContain("are not balanced");
	}

	@Test
	void aUsersAzureEndpointIsBalancedAnywayAndSaidSoOnce(CapturedOutput output) {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		assertThat(output.getAll()).doesNotContain("spring.ai.azure.openai.endpoint is not used");
		this.runner.withPropertyValues("spring.ai.azure.openai.endpoint=https://mine.openai.azure.com")
			.run((context) -> assertThat(context).hasNotFailed());
		assertThat(StringUtils.countOccurrencesOf(output.getAll(), "spring.ai.azure.openai.endpoint is not used"))
			.isEqualTo(1);
		assertThat(output.getAll()).doesNotContain("mine.openai.azure.com");
	}

}
