package io.github.openailb.transport;

import java.time.Duration;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import org.junit.jupiter.api.Test;

import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

class SmokeTests {

	@Test
	void failsOverOn429() {
		WireMockServer a = new WireMockServer(options().dynamicPort());
		WireMockServer b = new WireMockServer(options().dynamicPort());
		a.start();
		b.start();
		try {
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "7")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{\"ok\":true}")));
			BalancerConfig config = BalancerConfig.builder()
				.backend(new BalancerConfig.BackendBuilder().name("a").url(a.baseUrl()).apiKey("ka"))
				.backend(new BalancerConfig.BackendBuilder().name("b").url(b.baseUrl()).priority(2).apiKey("kb"))
				.build();
			LoadBalancer lb = LoadBalancer.builder(config).build();
			var transport = new ReactorTransport(TransportConfig.builder().connectTimeout(Duration.ofSeconds(1)).responseTimeout(Duration.ofSeconds(5)).build(), (c) -> c);
			var connector = new BalancingClientHttpConnector(lb, transport, new ApiKeyCredentials(config.backends()),
					TransportConfig.builder().responseTimeout(Duration.ofSeconds(5)).build(), transport);
			WebClient client = WebClient.builder().clientConnector(connector).baseUrl(BalancingClientHttpConnector.BASE_URL).build();
			String body = client.post().uri("/openai/deployments/x/chat/completions?api-version=1").bodyValue("{\"a\":1}")
				.retrieve().bodyToMono(String.class).block();
			assertThat(body).isEqualTo("{\"ok\":true}");
			b.verify(postRequestedFor(urlEqualTo("/openai/deployments/x/chat/completions?api-version=1"))
				.withHeader("api-key", equalTo("kb")).withRequestBody(equalTo("{\"a\":1}")));
			String second = client.post().uri("/x").bodyValue("{}").retrieve().bodyToMono(String.class).block();
			assertThat(second).isEqualTo("{\"ok\":true}");
			assertThat(a.getAllServeEvents()).hasSize(1);
		}
		finally {
			a.stop();
			b.stop();
		}
	}

}
