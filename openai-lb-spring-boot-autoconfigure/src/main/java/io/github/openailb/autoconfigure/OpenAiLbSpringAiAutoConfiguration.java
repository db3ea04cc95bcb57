package io.github.openailb.autoconfigure;

import java.io.IOException;
import java.util.List;

import com.azure.ai.openai.OpenAIClientBuilder;
import com.azure.core.credential.KeyCredential;
import com.azure.core.credential.TokenCredential;
import com.azure.core.http.policy.ExponentialBackoffOptions;
import com.azure.core.http.policy.RetryOptions;
import io.github.openailb.azure.BalancingAzureHttpClient;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.transport.BalancingClientHttpConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.ai.model.azure.openai.autoconfigure.AzureOpenAIClientBuilderCustomizer;
import org.springframework.ai.openai.api.OpenAiApi;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.client.RestClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Scope;
import org.springframework.core.env.Environment;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.util.StringUtils;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResponseErrorHandler;
import org.springframework.web.client.RestClient;

/**
 * Balances Spring AI's chat and embedding models: the one Azure SDK client builder behind
 * {@code AzureOpenAiChatModel} and {@code AzureOpenAiEmbeddingModel} sends through a
 * {@link BalancingAzureHttpClient}, and {@code OpenAiChatModel} and {@code OpenAiEmbeddingModel}
 * reach {@value BalancingClientHttpConnector#BASE_URL} through the application's balanced
 * {@code RestClient}/{@code WebClient} builders. All share the one engine.
 */
@AutoConfiguration(after = { OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class },
		beforeName = { "org.springframework.ai.model.azure.openai.autoconfigure.AzureOpenAiChatAutoConfiguration",
				"org.springframework.ai.model.azure.openai.autoconfigure.AzureOpenAiEmbeddingAutoConfiguration",
				"org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration",
				"org.springframework.ai.model.openai.autoconfigure.OpenAiEmbeddingAutoConfiguration" })
@ConditionalOnBean(LoadBalancer.class)
public class OpenAiLbSpringAiAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ OpenAIClientBuilder.class, AzureOpenAIClientBuilderCustomizer.class })
	static class AzureOpenAiConfiguration {

		private static final Logger logger = LoggerFactory.getLogger(OpenAiLbSpringAiAutoConfiguration.class);

		/**
		 * Our client sends only each request's path: a user's own endpoint is balanced too, but
		 * its host is not used. Said once, by name only (a URL may carry credentials).
		 */
		AzureOpenAiConfiguration(Environment environment) {
			String endpoint = environment.getProperty("spring.ai.azure.openai.endpoint");
			if (StringUtils.hasText(endpoint)
					&& !SpringAiDefaultsEnvironmentPostProcessor.AZURE_ENDPOINT.equalsIgnoreCase(endpoint.trim())) {
				logger.info("spring.ai.azure.openai.endpoint is not used: the Azure OpenAI models' requests are"
						+ " balanced across openai.lb.backends, each with its own URL and key; the property can be"
						+ " removed");
			}
		}

		@Bean
		@ConditionalOnMissingBean
		BalancingAzureHttpClient openAiLbAzureHttpClient(
				@OpenAiLoadBalanced ObjectProvider<BalancingClientHttpConnector> connector,
				ObjectProvider<BalancingClientHttpConnector> applicationConnector) {
			return new BalancingAzureHttpClient(
					OpenAiLbAutoConfiguration.balancingConnector(connector, applicationConnector));
		}

		/**
		 * First, so user customizers can still adjust the builder. The SDK's credentials are
		 * removed: each backend's key (SPEC §6) is set by the balancer, and the SDK's key and
		 * token policies would otherwise refuse a non-https endpoint or call Entra ID.
		 */
		@Bean
		@Order(Ordered.HIGHEST_PRECEDENCE)
		AzureOpenAIClientBuilderCustomizer openAiLbAzureClientBuilderCustomizer(BalancingAzureHttpClient httpClient,
				OpenAiLbProperties properties) {
			int maxRetries = properties.getSpringAi().getSdkMaxRetries();
			return (builder) -> builder.httpClient(httpClient)
				.retryOptions(new RetryOptions(new ExponentialBackoffOptions().setMaxRetries(maxRetries)))
				.credential((TokenCredential) null)
				.credential((KeyCredential) null);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ OpenAiApi.class, RestClient.class })
	static class OpenAiConfiguration {

		/** Every Spring AI 1.x property naming the OpenAI server of a model. */
		static final List<String> BASE_URL_PROPERTIES = List.of("spring.ai.openai.base-url",
				"spring.ai.openai.chat.base-url", "spring.ai.openai.embedding.base-url",
				"spring.ai.openai.image.base-url", "spring.ai.openai.audio.speech.base-url",
				"spring.ai.openai.audio.transcription.base-url", "spring.ai.openai.moderation.base-url");

		OpenAiConfiguration(Environment environment) {
			SpringAiBaseUrlCheck.warnOfUnbalanced(environment, BASE_URL_PROPERTIES);
		}

		/**
		 * Spring AI's own error handler turns every 4xx into an exception without the response
		 * headers; the balancer's 429 instead surfaces as
		 * {@link HttpClientErrorException.TooManyRequests} and its 503 (every circuit breaker
		 * open) as {@link HttpServerErrorException.ServiceUnavailable}, each with its
		 * {@code Retry-After}.
		 */
		@Bean
		@Order(Ordered.HIGHEST_PRECEDENCE)
		RestClientCustomizer openAiLbThrottledStatusHandler() {
			return (builder) -> builder.defaultStatusHandler(new BalancerErrorHandler());
		}

		/**
		 * Boot defines no {@code RestClient.Builder} in a reactive application, and Spring AI
		 * would then build an unbalanced one for {@code OpenAiChatModel.call()}. The customizers
		 * include the starter's, which sets the balancing request factory.
		 */
		@Bean
		@Scope("prototype")
		@ConditionalOnMissingBean
		@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
		RestClient.Builder openAiLbRestClientBuilder(ObjectProvider<RestClientCustomizer> customizers) {
			RestClient.Builder builder = RestClient.builder();
			customizers.orderedStream().forEach((customizer) -> customizer.customize(builder));
			return builder;
		}

	}

	/** Matches only the balancer's own 429 and 503, never a backend's answer or unrelated traffic. */
	static final class BalancerErrorHandler implements ResponseErrorHandler {

		@Override
		public boolean hasError(ClientHttpResponse response) throws IOException {
			String mark = response.getHeaders().getFirst(BalancingClientHttpConnector.MARK_HEADER);
			int status = response.getStatusCode().value();
			return (status == 429 && BalancingClientHttpConnector.THROTTLED_MARK.equals(mark))
					|| (status == 503 && BalancingClientHttpConnector.UNAVAILABLE_MARK.equals(mark));
		}

		@Override
		public void handleError(java.net.URI url, org.springframework.http.HttpMethod method,
				ClientHttpResponse response) throws IOException {
			byte[] body = response.getBody().readAllBytes();
			if (response.getStatusCode().value() == 503) {
				throw HttpServerErrorException.create(response.getStatusCode(), "Service Unavailable",
						response.getHeaders(), body, java.nio.charset.StandardCharsets.UTF_8);
			}
			throw HttpClientErrorException.create(response.getStatusCode(), "Too Many Requests", response.getHeaders(),
					body, java.nio.charset.StandardCharsets.UTF_8);
		}

	}

}
