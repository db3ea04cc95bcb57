package io.github.openailb.autoconfigure;

import java.util.List;

import io.github.openailb.core.LoadBalancer;
import io.github.openailb.openai.BalancingOkHttpInterceptor;
import io.github.openailb.transport.BalancingClientHttpConnector;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;

import org.springframework.ai.openai.http.okhttp.OpenAiHttpClientBuilderCustomizer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;

/**
 * Balances Spring AI 2's OpenAI models ({@code OpenAiChatModel}, {@code OpenAiEmbeddingModel},
 * and every other model Spring AI builds on the OpenAI Java SDK): their OkHttp clients end in a
 * {@link BalancingOkHttpInterceptor}, so each call and stream goes through the one engine.
 */
@AutoConfiguration(after = OpenAiLbAutoConfiguration.class,
		beforeName = { "org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration",
				"org.springframework.ai.model.openai.autoconfigure.OpenAiEmbeddingAutoConfiguration" })
@ConditionalOnBean(LoadBalancer.class)
@ConditionalOnClass({ OpenAiHttpClientBuilderCustomizer.class, Interceptor.class })
public class OpenAiLbSpringAiAutoConfiguration {

	/** Every Spring AI 2 property naming the OpenAI server of a model. */
	static final List<String> BASE_URL_PROPERTIES = List.of("spring.ai.openai.base-url",
			"spring.ai.openai.chat.base-url", "spring.ai.openai.chat.options.base-url",
			"spring.ai.openai.embedding.base-url", "spring.ai.openai.image.base-url",
			"spring.ai.openai.audio.speech.base-url", "spring.ai.openai.audio.transcription.base-url",
			"spring.ai.openai.moderation.base-url");

	OpenAiLbSpringAiAutoConfiguration(Environment environment) {
		SpringAiBaseUrlCheck.warnOfUnbalanced(environment, BASE_URL_PROPERTIES);
	}

	/**
	 * Attempts go out with OkHttp on the caller's thread; when the application customizes the
	 * Reactor Netty client of the attempts (a proxy, TLS), through that client instead, so that one
	 * customization governs every attempt.
	 */
	@Bean
	@ConditionalOnMissingBean
	BalancingOkHttpInterceptor openAiLbOkHttpInterceptor(
			@OpenAiLoadBalanced ObjectProvider<BalancingClientHttpConnector> connector,
			ObjectProvider<BalancingClientHttpConnector> applicationConnector,
			ObjectProvider<OpenAiLbHttpClientCustomizer> attemptClientCustomizers) {
		BalancingClientHttpConnector balancing = OpenAiLbAutoConfiguration.balancingConnector(connector,
				applicationConnector);
		if (attemptClientCustomizers.orderedStream().findAny().isPresent()) {
			return new BalancingOkHttpInterceptor(balancing);
		}
		return new BalancingOkHttpInterceptor(balancing,
				BalancingOkHttpInterceptor.attemptClient(new OkHttpClient.Builder(), balancing.config()));
	}

	/**
	 * Last, so that interceptors of the application's own customizers still see (and may adjust)
	 * each request before it is balanced.
	 */
	@Bean
	@Order(Ordered.LOWEST_PRECEDENCE)
	OpenAiHttpClientBuilderCustomizer openAiLbOpenAiHttpClientCustomizer(BalancingOkHttpInterceptor interceptor) {
		return (builder) -> builder.interceptor(interceptor);
	}

}
