package io.github.openailb.transport;

import java.time.Duration;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import org.junit.jupiter.api.Test;

import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

class StreamingResponseTests {

	@Test
	void releasingAnAnswerAlreadyReadIsNotABrokenStream() {
		WireMockServer a = new WireMockServer(options().dynamicPort());
		a.start();
		try {
			a.stubFor(post(anyUrl()).willReturn(okJson("{\"ok\":true}")));
			BalancerConfig config = BalancerConfig.builder()
				.backend(new BalancerConfig.BackendBuilder().name("a").url(a.baseUrl()).apiKey("ka"))
				.build();
			LoadBalancer lb = LoadBalancer.builder(config).build();
			var transport = new ReactorTransport(TransportConfig.builder().connectTimeout(Duration.ofSeconds(1)).responseTimeout(Duration.ofSeconds(5)).build(), (c) -> c);
			var connector = new BalancingClientHttpConnector(lb, transport, new ApiKeyCredentials(config.backends()),
					TransportConfig.builder().responseTimeout(Duration.ofSeconds(5)).build(), transport);
			WebClient client = WebClient.builder()
				.clientConnector(connector)
				.baseUrl(BalancingClientHttpConnector.BASE_URL)
				.build();
			// exchangeToMono releases the body once more after the handler read it
			String body = client.post()
				.uri("/x")
				.bodyValue("{}")
				.exchangeToMono((response) -> response.bodyToMono(String.class))
				.block(Duration.ofSeconds(10));
			assertThat(body).isEqualTo("{\"ok\":true}");
			assertThat(lb.backend("a").breaker().getMetrics().getNumberOfFailedCalls()).isZero();
			assertThat(lb.backend("a").breaker().getMetrics().getNumberOfSuccessfulCalls()).isOne();
		}
		finally {
			a.stop();
		}
	}

}
