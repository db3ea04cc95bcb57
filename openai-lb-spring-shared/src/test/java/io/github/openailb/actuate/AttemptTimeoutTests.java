package io.github.openailb.actuate;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.core.LoadBalancer;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.web.client.RestClient;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

class AttemptTimeoutTests {

	@Test
	void aBackendSilentBeyondTheResponseTimeoutFailsOver() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503)));
			b.stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"b\"}")));
			// a cold JVM's first exchanges load classes for longer than a tight timeout: warm up first
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.run((context) -> assertThat(LoopbackBackends.call(context)).isEqualTo(200));
			a.resetRequests();
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				// each call pays the timeout again: the cool-down after a timeout is TimeoutCoolDownTests' subject
				.withPropertyValues("openai.lb.response-timeout=300ms", "openai.lb.timeout-cool-down=0s")
				.run((context) -> {
					a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("{}").withFixedDelay(3000)));

					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					RestClient restClient = context.getBean("openAiLbRestClient", RestClient.class);
					String body = restClient.post().uri("/v1/chat/completions").body("{}").retrieve().body(String.class);
					assertThat(body).isEqualTo("{\"from\":\"b\"}");
					assertThat(a.getAllServeEvents()).hasSize(2);
					assertThat(context.getBean(LoadBalancer.class).backend("a").breaker().getMetrics()
						.getNumberOfFailedCalls()).isEqualTo(2);
					assertThat(context.getBean(MeterRegistry.class)
						.get("openai.lb.attempts")
						.tags("backend", "a", "outcome", "FAILURE")
						.counter()
						.count()).isEqualTo(2);
					assertThat(context.getBean(MeterRegistry.class)
						.get("openai.lb.requests")
						.tags("ending", "ANSWERED")
						.counter()
						.count()).isEqualTo(2);
				});
		}
	}

}
