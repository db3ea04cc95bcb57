package io.github.openailb.autoconfigure;

import io.github.openailb.core.LoadBalancer;
import io.github.openailb.restclient.BalancingClientHttpRequestInterceptor;
import io.github.openailb.transport.BalancingClientHttpConnector;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.web.client.RestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.ClientHttpConnectorAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.WebClientAutoConfiguration;
import org.springframework.boot.web.client.RestClientCustomizer;
import org.springframework.boot.web.reactive.function.client.WebClientCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * Balanced {@link RestClient} and {@link WebClient} beans, and customizers that make every
 * client built from the application's builders balance the calls it sends to
 * {@value BalancingClientHttpConnector#BASE_URL} (and only those).
 */
@AutoConfiguration(after = { OpenAiLbAutoConfiguration.class, RestClientAutoConfiguration.class,
		WebClientAutoConfiguration.class, ClientHttpConnectorAutoConfiguration.class })
@ConditionalOnBean(LoadBalancer.class)
public class OpenAiLbClientsAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(RestClient.class)
	static class RestClientConfiguration {

		@Bean
		@ConditionalOnMissingBean
		BalancingClientHttpRequestInterceptor openAiLbRequestInterceptor(@OpenAiLoadBalanced BalancingClientHttpConnector connector) {
			return new BalancingClientHttpRequestInterceptor(connector);
		}

		@Bean
		@Order(Ordered.LOWEST_PRECEDENCE)
		RestClientCustomizer openAiLbRestClientCustomizer(BalancingClientHttpRequestInterceptor interceptor) {
			return interceptor::applyTo;
		}

		@Bean(defaultCandidate = false)
		@OpenAiLoadBalanced
		@ConditionalOnMissingBean(name = "openAiLbRestClient")
		RestClient openAiLbRestClient(ObjectProvider<RestClient.Builder> builder,
				BalancingClientHttpRequestInterceptor interceptor) {
			RestClient.Builder base = builder.getIfAvailable(RestClient::builder);
			return interceptor.applyTo(base).baseUrl(BalancingClientHttpConnector.BASE_URL).build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(WebClient.class)
	static class WebClientConfiguration {

		@Bean
		@Order(Ordered.LOWEST_PRECEDENCE)
		WebClientCustomizer openAiLbWebClientCustomizer(@OpenAiLoadBalanced BalancingClientHttpConnector connector,
				ObjectProvider<ClientHttpConnector> applicationConnector) {
			// requests to other hosts keep going through the application's own connector
			ClientHttpConnector passThrough = applicationConnector.getIfAvailable(ReactorClientHttpConnector::new);
			BalancingClientHttpConnector balanced = connector.withPassThrough(passThrough);
			return (builder) -> builder.clientConnector(balanced);
		}

		@Bean(defaultCandidate = false)
		@OpenAiLoadBalanced
		@ConditionalOnMissingBean(name = "openAiLbWebClient")
		WebClient openAiLbWebClient(ObjectProvider<WebClient.Builder> builder, @OpenAiLoadBalanced BalancingClientHttpConnector connector) {
			WebClient.Builder base = builder.getIfAvailable(WebClient::builder);
			return base.clientConnector(connector).baseUrl(BalancingClientHttpConnector.BASE_URL).build();
		}

	}

}
