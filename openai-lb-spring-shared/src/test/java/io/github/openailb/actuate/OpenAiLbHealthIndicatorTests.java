package io.github.openailb.actuate;

import io.github.openailb.testsupport.MutableClock;
import java.time.Duration;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.autoconfigure.LoadBalancerCustomizer;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.BootLine;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.context.ApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

class OpenAiLbHealthIndicatorTests {

	@Test
	void upWith200WhileEveryBackendIsThrottledAndBackToTakingTrafficWhenOneRecovers() {
		MutableClock clock = new MutableClock();
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
			b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
			LoopbackBackends.webContextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withBean(LoadBalancerCustomizer.class, () -> clockedBreakers(clock))
				.run((context) -> {
					assertThat(health(context).status()).isEqualTo("UP");
					assertThat(backend(context, "a")).containsEntry("state", "AVAILABLE")
						.containsEntry("takesTrafficNow", true)
						.containsEntry("circuitBreaker", "CLOSED")
						.doesNotContainKey("coolingDownUntil");

					assertThat(LoopbackBackends.call(context)).isEqualTo(429);
					// throttling is not an outage: a probe must not take the application out at the peak
					assertThat(BootLine.webHealth(context)).isEqualTo(new BootLine.WebHealth(200, "UP"));
					assertThat(BootLine.webHealth(context, "openAiLb")).isEqualTo(new BootLine.WebHealth(200, "UP"));
					assertThat(backend(context, "a")).containsEntry("state", "COOLING_DOWN")
						.containsEntry("takesTrafficNow", false)
						.containsEntry("coolingDownUntil", clock.instant().plusSeconds(30).toString())
						.containsEntry("circuitBreaker", "OPEN")
						.doesNotContainKey("circuitOpenUntil");
					assertThat(backend(context, "b")).containsEntry("state", "COOLING_DOWN")
						.containsEntry("coolingDownUntil", clock.instant().plusSeconds(60).toString());

					clock.advance(Duration.ofSeconds(30).plusMillis(1));
					assertThat(backend(context, "a")).containsEntry("takesTrafficNow", true);
					a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(backend(context, "a")).containsEntry("state", "HALF_OPEN");
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(backend(context, "a")).containsEntry("state", "AVAILABLE")
						.containsEntry("circuitBreaker", "CLOSED")
						.containsEntry("attempts", Map.of("total", 4, "success", 3, "throttled", 1, "failure", 0,
								"misconfigured", 0, "clientError", 0));
				});
		}
	}

	@Test
	void upWhileABreakerWaitsForItsProbeShowingWhenTheProbeIsDue() {
		MutableClock clock = new MutableClock();
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(502)));
			LoopbackBackends.webContextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withBean(LoadBalancerCustomizer.class, () -> clockedBreakers(clock))
				.run((context) -> {
					for (int i = 0; i < 10; i++) {
						assertThat(LoopbackBackends.call(context)).isEqualTo(502);
					}
					assertThat(BootLine.webHealth(context)).isEqualTo(new BootLine.WebHealth(200, "UP"));
					// the default breaker stays open 30s; it lets a probe through the millisecond after
					assertThat(backend(context, "a")).containsEntry("state", "CIRCUIT_OPEN")
						.containsEntry("takesTrafficNow", false)
						.containsEntry("circuitOpenUntil", clock.instant().plusSeconds(30).plusMillis(1).toString())
						.doesNotContainKey("coolingDownUntil");
				});
		}
	}

	@Test
	void downWith503OnlyWhenNoBackendCanEverAnswer() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			WireMockServer c = backends.start();
			a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(401)));
			c.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(404)));
			LoopbackBackends.webContextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("openai.lb.backends[0].enabled=false")
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withPropertyValues(LoopbackBackends.backend(2, "c", c, 3))
				.run((context) -> {
					assertThat(BootLine.webHealth(context)).isEqualTo(new BootLine.WebHealth(200, "UP"));
					assertThat(LoopbackBackends.call(context)).isEqualTo(404);
					assertThat(backend(context, "a")).containsEntry("state", "DISABLED")
						.containsEntry("takesTrafficNow", false);
					assertThat(backend(context, "b")).containsEntry("state", "MISCONFIGURED");
					assertThat(backend(context, "c")).containsEntry("state", "MISCONFIGURED");
					// a key or deployment must be fixed before any request can succeed
					assertThat(BootLine.webHealth(context)).isEqualTo(new BootLine.WebHealth(503, "DOWN"));
					assertThat(BootLine.webHealth(context, "openAiLb")).isEqualTo(new BootLine.WebHealth(503, "DOWN"));

					// misconfigured backends are still tried, and one success brings the application back
					c.stubFor(post(anyUrl()).willReturn(okJson("{}")));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(BootLine.webHealth(context)).isEqualTo(new BootLine.WebHealth(200, "UP"));

					context.getBean(LoadBalancer.class).backend("c").breaker().transitionToForcedOpenState();
					assertThat(backend(context, "c")).containsEntry("state", "CIRCUIT_OPEN")
						.doesNotContainKey("circuitOpenUntil");
					assertThat(BootLine.webHealth(context)).isEqualTo(new BootLine.WebHealth(503, "DOWN"));
				});
		}
	}

	@Test
	void showsHostPriorityWeightAndMisconfigurationButNoPathQueryOrKey() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(401)));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withPropertyValues("openai.lb.backends[1].weight=3")
				.run((context) -> {
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(health(context).status()).isEqualTo("UP");
					assertThat(backend(context, "a")).containsEntry("host", "localhost:" + a.port())
						.containsEntry("priority", 1)
						.containsEntry("state", "MISCONFIGURED")
						.containsEntry("misconfiguration", "answered 401");
					assertThat(backend(context, "b")).containsEntry("host", "localhost:" + b.port())
						.containsEntry("priority", 2)
						.containsEntry("weight", 3)
						.containsEntry("state", "AVAILABLE")
						.doesNotContainKey("misconfiguration");
				});
		}
	}

	@Test
	@SuppressWarnings("unchecked")
	void showsTheLastQuotaReportAndItsGauge() {
		MutableClock clock = new MutableClock();
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			a.stubFor(post(anyUrl()).willReturn(okJson("{}").withHeader("x-ratelimit-remaining-requests", "30")
				.withHeader("x-ratelimit-limit-requests", "120")
				.withHeader("x-ratelimit-remaining-tokens", "garbage")
				.withHeader("x-ratelimit-reset-requests", "10s")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withBean(LoadBalancerCustomizer.class, () -> clockedBreakers(clock))
				.run((context) -> {
					assertThat(backend(context, "a")).doesNotContainKey("headroom");
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(backend(context, "a")).containsEntry("headroom",
							Map.of("remainingRequests", 30, "limitRequests", 120, "seenAt", clock.instant().toString(),
									"fresh", true));
					io.micrometer.core.instrument.MeterRegistry meters = context
						.getBean(io.micrometer.core.instrument.MeterRegistry.class);
					assertThat(meters.get(OpenAiLbBackendStateMetrics.HEADROOM).tag("backend", "a").gauge().value())
						.isEqualTo(0.25);
					clock.advance(Duration.ofSeconds(10));
					assertThat(meters.get(OpenAiLbBackendStateMetrics.HEADROOM).tag("backend", "a").gauge().value())
						.isNaN();
					assertThat((Map<String, Object>) backend(context, "a").get("headroom")).containsEntry("fresh", false);
				});
		}
	}

	@Test
	@SuppressWarnings("unchecked")
	void showsEachDeploymentUnderItsBackendWhileTheStatusStaysPerBackend() {
		MutableClock clock = new MutableClock();
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(urlPathMatching(".*/chat-a/.*"))
				.willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
			a.stubFor(post(urlPathMatching(".*/emb-a/.*")).willReturn(aResponse().withStatus(404)));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}").withHeader("x-ratelimit-remaining-requests", "30")
				.withHeader("x-ratelimit-limit-requests", "120")
				.withHeader("x-ratelimit-reset-requests", "10s")));
			LoopbackBackends.webContextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("openai.lb.backends[0].deployments.gpt-4o=chat-a",
						"openai.lb.backends[0].deployments.text-embedding-3-small=emb-a")
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withPropertyValues("openai.lb.backends[1].deployments.gpt-4o=chat-b")
				.withPropertyValues("openai.lb.backends[2].name=one", "openai.lb.backends[2].url=http://localhost:1",
						"openai.lb.backends[2].deployment=everything", "openai.lb.backends[2].enabled=false")
				.withBean(LoadBalancerCustomizer.class, () -> clockedBreakers(clock))
				.run((context) -> {
					assertThat((Map<String, Object>) backend(context, "a").get("deployments")).isEqualTo(Map.of(
							"gpt-4o", Map.of("name", "chat-a", "state", "AVAILABLE"), "text-embedding-3-small",
							Map.of("name", "emb-a", "state", "AVAILABLE")));

					// chat throttled on a, embeddings missing there: a itself is fine, and so is the balancer
					assertThat(LoopbackBackends.call(context, "gpt-4o")).isEqualTo(200);
					assertThat(LoopbackBackends.call(context, "text-embedding-3-small")).isEqualTo(404);
					assertThat(BootLine.webHealth(context)).isEqualTo(new BootLine.WebHealth(200, "UP"));
					Map<String, Object> onA = backend(context, "a");
					assertThat(onA).containsEntry("state", "AVAILABLE")
						.containsEntry("takesTrafficNow", true)
						.doesNotContainKey("coolingDownUntil")
						.doesNotContainKey("misconfiguration");
					Map<String, Map<String, Object>> deployments = (Map<String, Map<String, Object>>) onA
						.get("deployments");
					assertThat(deployments.keySet()).containsExactly("gpt-4o", "text-embedding-3-small");
					assertThat(deployments.get("gpt-4o")).isEqualTo(Map.of("name", "chat-a", "state", "COOLING_DOWN",
							"coolingDownUntil", clock.instant().plusSeconds(30).toString()));
					assertThat(deployments.get("text-embedding-3-small")).isEqualTo(
							Map.of("name", "emb-a", "state", "MISCONFIGURED", "notServed", "answered 404"));
					assertThat((Map<String, Object>) backend(context, "b").get("deployments")).isEqualTo(Map.of(
							"gpt-4o", Map.of("name", "chat-b", "state", "AVAILABLE", "headroom",
									Map.of("remainingRequests", 30, "limitRequests", 120, "seenAt",
											clock.instant().toString(), "fresh", true))));
					// one deployment for every request keeps one state: nothing per model to show
					assertThat(backend(context, "one")).doesNotContainKey("deployments");

					clock.advance(Duration.ofSeconds(30).plusMillis(1));
					assertThat(((Map<String, Map<String, Object>>) backend(context, "a").get("deployments"))
						.get("gpt-4o")).containsEntry("state", "AVAILABLE").doesNotContainKey("coolingDownUntil");
				});
		}
	}

	/** Balancer and breakers read the test's clock. */
	static LoadBalancerCustomizer clockedBreakers(MutableClock clock) {
		CircuitBreakerRegistry registry = CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(clock));
		return (builder) -> builder.clock(clock).circuitBreakers(registry::circuitBreaker);
	}

	static BootLine.HealthReport health(ApplicationContext context) {
		return BootLine.healthEndpointReport(context, "openAiLb");
	}

	/** One backend's details as the JSON a client of {@code /actuator/health} reads. */
	@SuppressWarnings("unchecked")
	static Map<String, Object> backend(ApplicationContext context, String name) throws Exception {
		com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
		Map<String, Object> health = json.readValue(json.writeValueAsString(BootLine.healthEndpoint(context, "openAiLb")), Map.class);
		Map<String, Object> details = (Map<String, Object>) health.get("details");
		return ((Map<String, Map<String, Object>>) details.get("backends")).get(name);
	}

}
