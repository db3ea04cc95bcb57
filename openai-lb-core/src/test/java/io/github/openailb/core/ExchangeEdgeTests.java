package io.github.openailb.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Edge cases of one request: when a failover really happens, a busy half-open backend, and
 * what failure reasons may show.
 */
class ExchangeEdgeTests {

	private final MutableClock clock = new MutableClock();

	private final List<String> failovers = new ArrayList<>();

	@Test
	void aFailoverIsCountedOnlyWhenAnotherAttemptFollows() {
		LoadBalancer balancer = balancer(CircuitBreakerConfig.custom().clock(this.clock).build(), "a", "b");
		Exchange exchange = balancer.begin();
		exchange.answered((Step.Attempt) exchange.next(), 503, (name) -> null, "");
		exchange.answered((Step.Attempt) exchange.next(), 503, (name) -> null, "");
		assertThat(exchange.next()).isInstanceOf(Step.GiveUp.class);
		assertThat(this.failovers).hasSize(1);
	}

	@Test
	void aHalfOpenBackendWithEveryProbeInUseIsUnavailableNotFailed() {
		CircuitBreakerConfig oneProbe = CircuitBreakerConfig.custom()
			.clock(this.clock)
			.permittedNumberOfCallsInHalfOpenState(1)
			.build();
		LoadBalancer balancer = balancer(oneProbe, "only");
		balancer.backend("only").breaker().transitionToOpenState();
		balancer.backend("only").breaker().transitionToHalfOpenState();
		Exchange probe = balancer.begin();
		assertThat(probe.next()).isInstanceOf(Step.Attempt.class);
		Step second = balancer.begin().next();
		assertThat(second).isInstanceOfSatisfying(Step.GiveUp.class, (end) -> {
			assertThat(end.ending()).isEqualTo(Step.Ending.UNAVAILABLE);
			assertThat(end.retryAfterSeconds()).isEqualTo(1);
		});
	}

	@Test
	void failureReasonsKeepTheirTextButNoQueryString() {
		LoadBalancer balancer = balancer(CircuitBreakerConfig.custom().clock(this.clock).build(), "a");
		Exchange exchange = balancer.begin();
		exchange.failed((Step.Attempt) exchange.next(), new java.io.IOException(
				"GET https://a.example.com/x?api-key=sk-secret-123 timed out after 5s"));
		Step.GiveUp end = (Step.GiveUp) exchange.next();
		assertThat(end.reason()).contains("timed out after 5s").doesNotContain("sk-secret").doesNotContain("api-key");
	}

	private LoadBalancer balancer(CircuitBreakerConfig breakers, String... names) {
		BalancerConfig.Builder config = BalancerConfig.builder();
		for (String name : names) {
			config.backend(new BalancerConfig.BackendBuilder().name(name).url("http://" + name));
		}
		return LoadBalancer.builder(config.build())
			.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(breakers)::circuitBreaker)
			.listener(new BalancerListener() {

				@Override
				public void failedOver(Backend from, Outcome outcome) {
					ExchangeEdgeTests.this.failovers.add(from.name());
				}

			})
			.build();
	}

}
