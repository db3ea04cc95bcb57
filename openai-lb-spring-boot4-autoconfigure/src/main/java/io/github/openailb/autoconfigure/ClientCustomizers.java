package io.github.openailb.autoconfigure;

import io.github.openailb.restclient.BalancingClientHttpRequestFactory;
import io.github.openailb.transport.BalancingClientHttpConnector;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.HttpClientSettings;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.ResourceLoader;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The customizers of the application's client builders on Spring Boot 4, imported by the shared
 * {@link OpenAiLbClientsAutoConfiguration}; the Boot 3 line has its own class of this name.
 */
final class ClientCustomizers {

	private ClientCustomizers() {
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ RestClientCustomizer.class, ClientHttpRequestFactoryBuilder.class })
	static class RestClientCustomizerConfiguration {

		/**
		 * First, so that a request factory set by a customizer of the application (which runs
		 * later) replaces ours on that builder. Requests to other hosts go to the factory Boot's
		 * {@code RestClientAutoConfiguration} would set (from {@code spring.http.client.*} or the
		 * application's {@code ClientHttpRequestFactoryBuilder} and settings beans), built once, on
		 * first use.
		 */
		@Bean
		@Order(Ordered.HIGHEST_PRECEDENCE)
		RestClientCustomizer openAiLbRestClientCustomizer(
				@OpenAiLoadBalanced ObjectProvider<BalancingClientHttpConnector> connector,
				ObjectProvider<BalancingClientHttpConnector> applicationBalancingConnector,
				ObjectProvider<ClientHttpRequestFactoryBuilder<?>> factoryBuilder,
				ObjectProvider<HttpClientSettings> settings,
				ResourceLoader resourceLoader) {
			SingletonSupplier<ClientHttpRequestFactory> application = SingletonSupplier
				.of(() -> factoryBuilder
					.getIfAvailable(() -> ClientHttpRequestFactoryBuilder.detect(resourceLoader.getClassLoader()))
					.build(settings.getIfAvailable(HttpClientSettings::defaults)));
			BalancingClientHttpRequestFactory factory = new BalancingClientHttpRequestFactory(
					OpenAiLbAutoConfiguration.balancingConnector(connector, applicationBalancingConnector),
					(uri, method) -> application.obtain().createRequest(uri, method));
			return (builder) -> builder.requestFactory(factory);
		}

	}

	/** Only with the application's own WebFlux: the starter does not bring it. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ WebClient.class, WebClientCustomizer.class })
	static class WebClientCustomizerConfiguration {

		/**
		 * After Boot's customizer that sets the application's connector (order 0), before the
		 * application's own customizers (unordered ones run last), so that a connector set by one
		 * of them replaces ours on that builder.
		 */
		@Bean
		@Order(1)
		WebClientCustomizer openAiLbWebClientCustomizer(
				@OpenAiLoadBalanced ObjectProvider<BalancingClientHttpConnector> connector,
				ObjectProvider<BalancingClientHttpConnector> applicationBalancingConnector,
				ObjectProvider<ClientHttpConnector> applicationConnector) {
			// requests to other hosts keep going through the application's own connector
			ClientHttpConnector passThrough = applicationConnector.getIfAvailable(ReactorClientHttpConnector::new);
			BalancingClientHttpConnector balanced = OpenAiLbAutoConfiguration
				.balancingConnector(connector, applicationBalancingConnector)
				.withPassThrough(passThrough);
			return (builder) -> builder.clientConnector(balanced);
		}

	}

}
