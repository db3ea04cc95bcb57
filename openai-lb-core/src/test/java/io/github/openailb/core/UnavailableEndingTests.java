package io.github.openailb.core;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static io.github.openailb.core.EngineFixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A pool whose circuit breakers are all open after failures is unavailable (a synthetic 503), not
 * throttled (a synthetic 429): only a cool-down is throttling.
 */
class UnavailableEndingTests {

	private final MutableClock clock = new MutableClock();

	/** Open after two calls of which one failed; stays open 20 s, then lets one probe through. */
	private final CircuitBreakerConfig breakers = CircuitBreakerConfig.custom()
		.slidingWindowSize(2)
		.permittedNumberOfCallsInHalfOpenState(1)
		.minimumNumberOfCalls(2)
		.failureRateThreshold(50)
		.waitDurationInOpenState(Duration.ofSeconds(20))
		.clock(this.clock)
		.build();

	@Test
	void everyBreakerOpenAfterFailuresEndsUnavailableWithTheNextProbeTime() throws Exception {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		openBothBreakers(lb);
		this.clock.advance(Duration.ofMillis(5500));
		Exchange exchange = lb.begin();
		Step.GiveUp end = giveUp(exchange);
		assertThat(end.ending()).isEqualTo(Step.Ending.UNAVAILABLE);
		assertThat(end.retryAfterSeconds()).isEqualTo(15);
		assertThat(end.reason()).isEqualTo("no backend is available (a: CIRCUIT_OPEN, b: CIRCUIT_OPEN)");
		assertThat(exchange.attempts()).isZero();
		JsonNode error = new ObjectMapper().readTree(new String(end.unavailableBody(), StandardCharsets.UTF_8))
			.get("error");
		assertThat(error.get("code").asText()).isEqualTo("service_unavailable");
		assertThat(error.get("type").asText()).isEqualTo("service_unavailable");
		assertThat(error.get("message").asText()).contains("circuit breakers are open")
			.contains("a: CIRCUIT_OPEN")
			.contains("retry after 15 seconds");
	}

	@Test
	void aThrottledBackendMakesThePoolThrottledEvenWithTheOtherBreakersOpen() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		openBothBreakers(lb);
		// a's probe fails (its breaker opens again), b's probe is throttled for longer
		this.clock.advance(Duration.ofMillis(20001));
		Exchange probe = lb.begin();
		probe.answered(attempt(probe, "a"), 500, NO_HEADERS, null);
		probe.answered(attempt(probe, "b"), 429, headers("retry-after", "40"), null);
		assertThat(giveUp(probe).ending()).isEqualTo(Step.Ending.THROTTLED);
		Step.GiveUp end = giveUp(lb.begin());
		assertThat(end.ending()).isEqualTo(Step.Ending.THROTTLED);
		// the soonest is a's next probe, one millisecond after its 20 s
		assertThat(end.retryAfterSeconds()).isEqualTo(21);
	}

	@Test
	void halfOpenProbesAfterACoolDownAreThrottlingNotUnavailability() {
		LoadBalancer lb = balancer(backend("only"));
		Exchange first = lb.begin();
		first.answered(attempt(first, "only"), 429, headers("retry-after", "2"), null);
		this.clock.advance(Duration.ofSeconds(2));
		// the one probe is taken by a request still under way
		attempt(lb.begin(), "only");
		Step.GiveUp end = giveUp(lb.begin());
		assertThat(end.ending()).isEqualTo(Step.Ending.THROTTLED);
		assertThat(end.retryAfterSeconds()).isEqualTo(1);
	}

	@Test
	void aForcedOpenPoolIsUnavailableWithoutARetryTime() {
		LoadBalancer lb = balancer(backend("a"));
		lb.backend("a").breaker().transitionToForcedOpenState();
		Step.GiveUp end = giveUp(lb.begin());
		assertThat(end.ending()).isEqualTo(Step.Ending.UNAVAILABLE);
		assertThat(end.retryAfterSeconds()).isZero();
		assertThat(new String(end.unavailableBody(), StandardCharsets.UTF_8)).doesNotContain("retry after");
	}

	@Test
	void aRequestWhoseOwnFailuresOpenedTheBreakersFailsWithWhatHappened() {
		LoadBalancer lb = balancer(backend("a"));
		Exchange warmUp = lb.begin();
		warmUp.answered(attempt(warmUp, "a"), 200, NO_HEADERS, null);
		Exchange exchange = lb.begin();
		exchange.failed(attempt(exchange, "a"), new ConnectException("Connection refused"));
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		Step.GiveUp end = giveUp(exchange);
		assertThat(end.ending()).isEqualTo(Step.Ending.FAILED);
		assertThat(end.reason()).contains("a: ConnectException");
	}

	/** Two requests answered 500 by both backends open both breakers. */
	private void openBothBreakers(LoadBalancer lb) {
		for (int i = 0; i < 2; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
			exchange.answered(attempt(exchange, "b"), 500, NO_HEADERS, null);
			assertThat(giveUp(exchange).ending()).isEqualTo(Step.Ending.LAST_ANSWER);
		}
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		assertThat(lb.backend("b").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
	}

	private LoadBalancer balancer(BalancerConfig.BackendBuilder... backends) {
		BalancerConfig.Builder config = BalancerConfig.builder();
		for (BalancerConfig.BackendBuilder backend : backends) {
			config.backend(backend);
		}
		return LoadBalancer.builder(config.build())
			.clock(this.clock)
			.random(new Random(42))
			.circuitBreakers(CircuitBreakerRegistry.of(this.breakers)::circuitBreaker)
			.build();
	}

}
