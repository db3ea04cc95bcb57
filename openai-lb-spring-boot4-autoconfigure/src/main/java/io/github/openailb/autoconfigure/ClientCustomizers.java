package io.github.openailb.autoconfigure;

import io.github.openailb.restclient.BalancingClientHttpRequestInterceptor;
import io.github.openailb.transport.BalancingClientHttpConnector;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.restclient.RestClientCustomizer;
import org.springframework.boot.webclient.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;

/**
 * The customizers of the application's client builders on Spring Boot 4, imported by the shared
 * {@link OpenAiLbClientsAutoConfiguration}; the Boot 3 line has its own class of this name.
 */
final class ClientCustomizers {

	private ClientCustomizers() {
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(RestClientCustomizer.class)
	static class RestClientCustomizerConfiguration {

		@Bean
		@Order(Ordered.LOWEST_PRECEDENCE)
		RestClientCustomizer openAiLbRestClientCustomizer(BalancingClientHttpRequestInterceptor interceptor) {
			return interceptor::applyTo;
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(WebClientCustomizer.class)
	static class WebClientCustomizerConfiguration {

		@Bean
		@Order(Ordered.LOWEST_PRECEDENCE)
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
