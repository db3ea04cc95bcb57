package io.github.openailb.core;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend that timed out is left alone for {@code timeout-cool-down}: its breaker is held open,
 * so the next requests go elsewhere without waiting for it again.
 */
class TimeoutCoolDownTests {

	private final MutableClock clock = new MutableClock();

	private final EngineFixtures.RecordingListener listener = new EngineFixtures.RecordingListener();

	@Test
	void aTimeoutLeavesTheBackendAloneForTheCoolDownThenItIsProbed() {
		LoadBalancer lb = balancer(Duration.ofSeconds(10));
		Exchange first = lb.begin();
		first.timedOut(attempt(first, "slow"), new TimeoutException("no response within 1000 ms"));
		first.answered(attempt(first, "fast"), 200, NO_HEADERS, null);
		Backend slow = lb.backend("slow");
		assertThat(slow.state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		assertThat(slow.circuitOpenUntil()).isEqualTo(this.clock.instant().plusSeconds(10));
		assertThat(slow.takesTrafficNow()).isFalse();
		assertThat(slow.canAnswer()).isTrue();
		assertThat(this.listener.events).contains("coolDownStarted slow PT10S");
		for (int i = 0; i < 5; i++) {
			Exchange next = lb.begin();
			next.answered(attempt(next, "fast"), 200, NO_HEADERS, null);
		}
		assertThat(slow.counts().attempts()).isEqualTo(1);

		this.clock.advance(Duration.ofSeconds(10));
		assertThat(slow.takesTrafficNow()).isTrue();
		assertThat(slow.circuitOpenUntil()).isNull();
		Exchange probe = lb.begin();
		probe.answered(attempt(probe, "slow"), 200, NO_HEADERS, null);
		assertThat(slow.state()).isEqualTo(BackendState.HALF_OPEN);
	}

	@Test
	void aProbeThatTimesOutAgainLeavesTheBackendAloneAgain() {
		LoadBalancer lb = balancer(Duration.ofSeconds(10));
		Exchange first = lb.begin();
		first.timedOut(attempt(first, "slow"), new TimeoutException());
		this.clock.advance(Duration.ofSeconds(10));
		Exchange probe = lb.begin();
		probe.timedOut(attempt(probe, "slow"), new TimeoutException());
		assertThat(lb.backend("slow").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		assertThat(lb.backend("slow").circuitOpenUntil()).isEqualTo(this.clock.instant().plusSeconds(10));
	}

	@Test
	void zeroKeepsTryingTheBackend() {
		LoadBalancer lb = balancer(Duration.ZERO);
		Exchange first = lb.begin();
		first.timedOut(attempt(first, "slow"), new TimeoutException());
		first.answered(attempt(first, "fast"), 200, NO_HEADERS, null);
		assertThat(lb.backend("slow").state()).isEqualTo(BackendState.AVAILABLE);
		Exchange next = lb.begin();
		next.answered(attempt(next, "slow"), 200, NO_HEADERS, null);
	}

	@Test
	void aFailureThatIsNoTimeoutLeavesTheBackendSelectable() {
		LoadBalancer lb = balancer(Duration.ofSeconds(10));
		Exchange first = lb.begin();
		first.failed(attempt(first, "slow"), new java.net.ConnectException("Connection refused"));
		first.answered(attempt(first, "fast"), 200, NO_HEADERS, null);
		Exchange next = lb.begin();
		next.answered(attempt(next, "slow"), 200, NO_HEADERS, null);
	}

	@Test
	void aRequestWhoseEveryBackendTimedOutEndsWithTheTimeUntilTheFirstIsProbed() {
		LoadBalancer lb = balancer(Duration.ofSeconds(10));
		Exchange exchange = lb.begin();
		exchange.timedOut(attempt(exchange, "slow"), new TimeoutException("no response within 1000 ms"));
		this.clock.advance(Duration.ofSeconds(1));
		exchange.timedOut(attempt(exchange, "fast"), new TimeoutException("no response within 1000 ms"));
		Step.GiveUp end = giveUp(exchange);
		// every backend now rests: unavailable (503) until the first is probed, as with open breakers
		assertThat(end.ending()).isEqualTo(Step.Ending.UNAVAILABLE);
		assertThat(end.retryAfterSeconds()).isEqualTo(9);
		assertThat(end.reason()).contains("slow: TimeoutException (no response within 1000 ms)",
				"fast: TimeoutException");
		assertThat(lb.canAnswer()).isTrue();
	}

	@Test
	void withoutTheCoolDownARequestWhoseEveryBackendTimedOutFailsWithWhatHappened() {
		LoadBalancer lb = balancer(Duration.ZERO);
		Exchange exchange = lb.begin();
		exchange.timedOut(attempt(exchange, "slow"), new TimeoutException("no response within 1000 ms"));
		exchange.timedOut(attempt(exchange, "fast"), new TimeoutException("no response within 1000 ms"));
		Step.GiveUp end = giveUp(exchange);
		assertThat(end.ending()).isEqualTo(Step.Ending.FAILED);
		assertThat(end.reason()).contains("slow: TimeoutException", "fast: TimeoutException");
	}

	@Test
	void theNextRequestsFindThePoolUnavailableUntilTheFirstProbe() {
		LoadBalancer lb = balancer(Duration.ofSeconds(10));
		Exchange exchange = lb.begin();
		exchange.timedOut(attempt(exchange, "slow"), new TimeoutException());
		exchange.timedOut(attempt(exchange, "fast"), new TimeoutException());
		giveUp(exchange);
		this.clock.advance(Duration.ofSeconds(4));
		Exchange next = lb.begin();
		Step.GiveUp end = giveUp(next);
		assertThat(end.ending()).isEqualTo(Step.Ending.UNAVAILABLE);
		assertThat(end.retryAfterSeconds()).isEqualTo(6);
		assertThat(next.attempts()).isZero();
	}

	@Test
	void aTimeoutNeverShortensALongerOpening() {
		LoadBalancer lb = balancer(Duration.ofSeconds(10));
		Backend slow = lb.backend("slow");
		// the breaker opened on its failure rate: 30s until its probe
		for (int i = 0; i < 9; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "slow"), 502, NO_HEADERS, null);
		}
		Exchange last = lb.begin();
		last.timedOut(attempt(last, "slow"), new TimeoutException());
		assertThat(slow.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
		assertThat(slow.circuitOpenUntil()).isAfter(this.clock.instant().plusSeconds(29));
	}

	@Test
	void theCoolDownIsCappedAtMaxCoolDown() {
		BalancerConfig config = BalancerConfig.builder()
			.backend(backend("slow"))
			.maxCoolDown(Duration.ofSeconds(3))
			.timeoutCoolDown(Duration.ofMinutes(1))
			.build();
		LoadBalancer lb = LoadBalancer.builder(config)
			.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker)
			.build();
		Exchange exchange = lb.begin();
		exchange.timedOut(attempt(exchange, "slow"), new TimeoutException());
		assertThat(lb.backend("slow").circuitOpenUntil()).isEqualTo(this.clock.instant().plusSeconds(3));
	}

	@Test
	void theDefaultIsTenSecondsAndANegativeValueNamesTheProperty() {
		assertThat(BalancerConfig.builder().backend(backend("a")).build().timeoutCoolDown())
			.isEqualTo(Duration.ofSeconds(10));
		assertThat(new BalancerConfig(java.util.List.of(), Duration.ofSeconds(1), Duration.ofSeconds(1),
				Duration.ZERO, Strategy.WEIGHTED).timeoutCoolDown()).isEqualTo(BalancerConfig.DEFAULT_TIMEOUT_COOL_DOWN);
		org.assertj.core.api.Assertions
			.assertThatThrownBy(() -> BalancerConfig.builder()
				.backend(backend("a"))
				.timeoutCoolDown(Duration.ofSeconds(-1))
				.build())
			.isInstanceOf(InvalidConfigurationException.class)
			.hasMessageContaining("openai.lb.timeout-cool-down");
	}

	private LoadBalancer balancer(Duration timeoutCoolDown) {
		BalancerConfig config = BalancerConfig.builder()
			.backend(backend("slow"))
			.backend(backend("fast").priority(2))
			.timeoutCoolDown(timeoutCoolDown)
			.build();
		return LoadBalancer.builder(config)
			.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker)
			.listener(this.listener)
			.build();
	}

}
