package io.github.openailb.autoconfigure;

import io.github.openailb.core.LoadBalancer;
import io.github.openailb.restclient.BalancingClientHttpRequestFactory;
import io.github.openailb.transport.BalancingClientHttpConnector;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * Balanced {@link RestClient} and {@link WebClient} beans, and customizers that make every
 * client built from the application's builders balance the calls it sends to
 * {@value BalancingClientHttpConnector#BASE_URL} (and only those: every other call keeps the
 * application's own request factory or connector, and is neither intercepted nor buffered).
 */
// Boot 3 and Boot 4 names; the customizers, whose types moved in Boot 4, come from each line's
// ClientCustomizers
@AutoConfiguration(after = OpenAiLbAutoConfiguration.class,
		afterName = { "org.springframework.boot.autoconfigure.web.client.RestClientAutoConfiguration",
				"org.springframework.boot.autoconfigure.web.reactive.function.client.WebClientAutoConfiguration",
				"org.springframework.boot.autoconfigure.web.reactive.function.client.ClientHttpConnectorAutoConfiguration",
				"org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration",
				"org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration",
				"org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration" })
@ConditionalOnBean(LoadBalancer.class)
@Import({ ClientCustomizers.RestClientCustomizerConfiguration.class,
		ClientCustomizers.WebClientCustomizerConfiguration.class })
public class OpenAiLbClientsAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(RestClient.class)
	static class RestClientConfiguration {

		/**
		 * Its own request factory, whatever factory a customizer of the application set on the
		 * builder; an absolute URL to another host through it goes over a plain JDK connection.
		 */
		@Bean(defaultCandidate = false)
		@OpenAiLoadBalanced
		@ConditionalOnMissingBean(name = "openAiLbRestClient")
		RestClient openAiLbRestClient(ObjectProvider<RestClient.Builder> builder,
				@OpenAiLoadBalanced ObjectProvider<BalancingClientHttpConnector> connector,
				ObjectProvider<BalancingClientHttpConnector> applicationConnector) {
			RestClient.Builder base = builder.getIfAvailable(RestClient::builder);
			BalancingClientHttpRequestFactory factory = new BalancingClientHttpRequestFactory(
					OpenAiLbAutoConfiguration.balancingConnector(connector, applicationConnector),
					new SimpleClientHttpRequestFactory());
			return base.requestFactory(factory).baseUrl(BalancingClientHttpConnector.BASE_URL).build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(WebClient.class)
	static class WebClientConfiguration {

		@Bean(defaultCandidate = false)
		@OpenAiLoadBalanced
		@ConditionalOnMissingBean(name = "openAiLbWebClient")
		WebClient openAiLbWebClient(ObjectProvider<WebClient.Builder> builder,
				@OpenAiLoadBalanced ObjectProvider<BalancingClientHttpConnector> connector,
				ObjectProvider<BalancingClientHttpConnector> applicationConnector) {
			WebClient.Builder base = builder.getIfAvailable(WebClient::builder);
			return base.clientConnector(OpenAiLbAutoConfiguration.balancingConnector(connector, applicationConnector))
				.baseUrl(BalancingClientHttpConnector.BASE_URL)
				.build();
		}

	}

}
