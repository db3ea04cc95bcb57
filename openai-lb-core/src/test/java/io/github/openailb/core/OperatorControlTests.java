package io.github.openailb.core;

import java.io.IOException;

import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static io.github.openailb.core.EngineFixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An operator's runtime control of backends: {@link LoadBalancer#disable}, {@link LoadBalancer#enable}
 * and {@link LoadBalancer#reset}.
 */
@ExtendWith(QuietEngineLogs.class)
class OperatorControlTests {

	private final MutableClock clock = new MutableClock();

	@Test
	void aDisabledBackendTakesNoNewAttemptUntilEnabled() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		assertThat(lb.disable("a")).isTrue();
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.DISABLED);
		assertThat(lb.backend("a").isDisabledByOperator()).isTrue();
		assertThat(firstChoice(lb)).isEqualTo("b");
		assertThat(lb.enable("a")).isTrue();
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(firstChoice(lb)).isEqualTo("a");
	}

	@Test
	void anAttemptUnderwayWhenItsBackendIsDisabledStillEnds() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		Exchange exchange = lb.begin();
		Step.Attempt attempt = attempt(exchange, "a");
		lb.disable("a");
		assertThat(exchange.answered(attempt, 200, NO_HEADERS, null)).isEqualTo(Outcome.SUCCESS);
		assertThat(lb.backend("a").counts().successes()).isEqualTo(1);
	}

	@Test
	void enableDoesNotTurnOnABackendDisabledInConfiguration() {
		LoadBalancer lb = balancer(backend("a").enabled(false), backend("b"));
		assertThat(lb.enable("a")).isTrue();
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.DISABLED);
		assertThat(lb.backend("a").isDisabledByOperator()).isFalse();
		assertThat(firstChoice(lb)).isEqualTo("b");
	}

	@Test
	void whenEveryBackendIsDisabledNoneIsTriedAndTheCoolDownOfADisabledOneGivesNoRetryTime() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		throttle(lb, "a", "600");
		lb.disable("a");
		lb.disable("b");
		assertThat(lb.canTakeTraffic()).isFalse();
		Exchange exchange = lb.begin();
		Step.GiveUp end = giveUp(exchange);
		assertThat(end.ending()).isEqualTo(Step.Ending.FAILED);
		assertThat(exchange.attempts()).isZero();
	}

	@Test
	void unknownNamesChangeNothing() {
		LoadBalancer lb = balancer(backend("a"));
		assertThat(lb.disable("x")).isFalse();
		assertThat(lb.enable("x")).isFalse();
		assertThat(lb.reset("x")).isFalse();
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void resetEndsACoolDownAndItsBreakerSoTheNextRequestTriesTheBackend() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		throttle(lb, "a", "60");
		assertThat(lb.backend("a").breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
		assertThat(firstChoice(lb)).isEqualTo("b");
		assertThat(lb.reset("a")).isTrue();
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(lb.backend("a").coolingDownUntil()).isNull();
		assertThat(lb.backend("a").breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
		assertThat(firstChoice(lb)).isEqualTo("a");
		// a new hint after the reset counts again
		throttle(lb, "a", "30");
		assertThat(lb.backend("a").coolingDownUntil()).isEqualTo(this.clock.instant().plusSeconds(30));
	}

	@Test
	void resetClearsTheMisconfigurationMark() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 401, NO_HEADERS, null);
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.MISCONFIGURED);
		lb.reset("a");
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(lb.backend("a").misconfiguration()).isNull();
	}

	@Test
	void resetClosesABreakerOpenedByFailuresButNotAForcedOpenOne() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		for (int i = 0; i < 10; i++) {
			Exchange exchange = lb.begin();
			exchange.failed(attempt(exchange, "a"), new IOException("connection reset"));
			exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		}
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		lb.reset("a");
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(firstChoice(lb)).isEqualTo("a");

		lb.backend("a").breaker().transitionToForcedOpenState();
		lb.reset("a");
		assertThat(lb.backend("a").breaker().getState()).isEqualTo(CircuitBreaker.State.FORCED_OPEN);
		assertThat(firstChoice(lb)).isEqualTo("b");
	}

	@Test
	void resetDoesNotLiftADisable() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		lb.disable("a");
		lb.reset("a");
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.DISABLED);
	}

	private LoadBalancer balancer(BalancerConfig.BackendBuilder... backends) {
		BalancerConfig.Builder config = BalancerConfig.builder();
		for (BalancerConfig.BackendBuilder backend : backends) {
			config.backend(backend);
		}
		return LoadBalancer.builder(config.build())
			.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker)
			.build();
	}

	/** Make the named backend answer its first attempt with a 429 and this Retry-After. */
	private static void throttle(LoadBalancer lb, String name, String retryAfter) {
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, name), 429, headers("retry-after", retryAfter), null);
		exchange.abandoned(null);
	}

	private static String firstChoice(LoadBalancer lb) {
		Exchange exchange = lb.begin();
		Step.Attempt attempt = attempt(exchange);
		exchange.answered(attempt, 200, NO_HEADERS, null);
		return attempt.backend().name();
	}

}
