package io.github.openailb.actuate;

import io.github.openailb.testsupport.MutableClock;
import java.time.Duration;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.autoconfigure.LoadBalancerCustomizer;
import io.github.openailb.core.Backend;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.BootLine;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

class CircuitBreakerTests {

	@Test
	void opensAfterTheFailuresConfiguredThroughResilience4jPropertiesAndTheBackendGetsNoTrafficWhileOpen() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503)));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withPropertyValues("resilience4j.circuitbreaker.instances.a.sliding-window-size=4",
						"resilience4j.circuitbreaker.instances.a.minimum-number-of-calls=4",
						"resilience4j.circuitbreaker.instances.a.failure-rate-threshold=50",
						"resilience4j.circuitbreaker.instances.a.wait-duration-in-open-state=1h")
				.run((context) -> {
					Backend backend = context.getBean(LoadBalancer.class).backend("a");
					// the engine uses the application's breaker, configured from the properties
					assertThat(backend.breaker()).isSameAs(context.getBean(CircuitBreakerRegistry.class).circuitBreaker("a"));
					assertThat(backend.breaker().getCircuitBreakerConfig().getSlidingWindowSize()).isEqualTo(4);
					for (int i = 0; i < 3; i++) {
						assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					}
					assertThat(backend.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(backend.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
					assertThat(backend.state()).isEqualTo(BackendState.CIRCUIT_OPEN);
					for (int i = 0; i < 4; i++) {
						assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					}
					assertThat(a.getAllServeEvents()).hasSize(4);
					assertThat(b.getAllServeEvents()).hasSize(8);
				});
		}
	}

	@Test
	void userDefaultsFromConfigsDefaultApplyToEveryBackend() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("resilience4j.circuitbreaker.configs.default.sliding-window-size=7")
				.run((context) -> assertThat(context.getBean(LoadBalancer.class)
					.backend("a")
					.breaker()
					.getCircuitBreakerConfig()
					.getSlidingWindowSize()).isEqualTo(7));
		}
	}

	@Test
	void withoutResilience4jSettingsTheStarterDefaultsApply() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.run((context) -> {
					CircuitBreakerConfig config = context.getBean(LoadBalancer.class)
						.backend("a")
						.breaker()
						.getCircuitBreakerConfig();
					assertThat(config.getSlidingWindowSize()).isEqualTo(20);
					assertThat(config.getMinimumNumberOfCalls()).isEqualTo(10);
					assertThat(config.getFailureRateThreshold()).isEqualTo(50);
					assertThat(config.getPermittedNumberOfCallsInHalfOpenState()).isEqualTo(3);
				});
		}
	}

	@Test
	void a429OpensTheBreakerForExactlyItsRetryAfter() {
		MutableClock clock = new MutableClock();
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "7")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withBean(LoadBalancerCustomizer.class, () -> clocked(clock, LoadBalancer.defaultBreakerConfig(clock)))
				.run((context) -> {
					Backend backend = context.getBean(LoadBalancer.class).backend("a");
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(backend.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
					assertThat(backend.coolingDownUntil()).isEqualTo(clock.instant().plusSeconds(7));
					a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
					clock.advance(Duration.ofMillis(6999));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(1);
					assertThat(backend.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
					clock.advance(Duration.ofMillis(2));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(2);
					assertThat(backend.breaker().getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
				});
		}
	}

	@Test
	void halfOpenProbesCloseTheBreakerWhenTheBackendRecoversAndReopenItWhenNot() {
		MutableClock clock = new MutableClock();
		CircuitBreakerConfig config = CircuitBreakerConfig.custom()
			.slidingWindowSize(4)
			.minimumNumberOfCalls(4)
			.failureRateThreshold(50)
			.waitDurationInOpenState(Duration.ofSeconds(30))
			.permittedNumberOfCallsInHalfOpenState(2)
			.clock(clock)
			.build();
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withBean(LoadBalancerCustomizer.class, () -> clocked(clock, config))
				.run((context) -> {
					Backend backend = context.getBean(LoadBalancer.class).backend("a");
					for (int i = 0; i < 4; i++) {
						assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					}
					assertThat(backend.state()).isEqualTo(BackendState.CIRCUIT_OPEN);
					clock.advance(Duration.ofSeconds(29));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(4);

					// still failing when probed: open again for another wait
					clock.advance(Duration.ofSeconds(2));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(6);
					assertThat(backend.state()).isEqualTo(BackendState.CIRCUIT_OPEN);

					// recovered when probed: closed, traffic back
					clock.advance(Duration.ofSeconds(31));
					a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(backend.state()).isEqualTo(BackendState.HALF_OPEN);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(backend.state()).isEqualTo(BackendState.AVAILABLE);
					assertThat(backend.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
					int before = b.getAllServeEvents().size();
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(9);
					assertThat(b.getAllServeEvents()).hasSize(before);
				});
		}
	}

	@Test
	void resilience4jEndpointAndHealthShowTheBackendsBreakers() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withConfiguration(AutoConfigurations.of(BootLine.CIRCUIT_BREAKERS_HEALTH))
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withPropertyValues("management.endpoints.web.exposure.include=health,circuitbreakers",
						"management.health.circuitbreakers.enabled=true",
						"resilience4j.circuitbreaker.instances.a.register-health-indicator=true",
						"resilience4j.circuitbreaker.instances.a.allow-health-indicator-to-fail=false")
				.run((context) -> {
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					Map<String, CircuitBreaker.State> breakers = BootLine.circuitBreakerEndpoint(context);
					assertThat(breakers).containsEntry("a", CircuitBreaker.State.OPEN)
						.containsEntry("b", CircuitBreaker.State.CLOSED);
					assertThat(BootLine.healthEndpointReport(context, "circuitBreakers").details()).containsKey("a");
				});
		}
	}

	/** Balancer and breakers read the test's clock; the breakers are also the application's. */
	private static LoadBalancerCustomizer clocked(MutableClock clock, CircuitBreakerConfig config) {
		CircuitBreakerRegistry registry = CircuitBreakerRegistry.of(config);
		return (builder) -> builder.clock(clock).circuitBreakers(registry::circuitBreaker);
	}


}
