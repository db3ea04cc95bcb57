package io.github.openailb.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two application instances sharing backend state through a {@link SharedState}.
 */
class SharedStateTests {

	private final MutableClock clock = new MutableClock();

	/** Delivers every publication to every started instance, as a pub/sub channel would. */
	private final List<SharedState.Listener> subscribers = new ArrayList<>();

	private final SharedState channel = new SharedState() {

		@Override
		public void start(Listener listener) {
			SharedStateTests.this.subscribers.add(listener);
		}

		@Override
		public void coolingDown(String backend, long until, String reason) {
			SharedStateTests.this.subscribers.forEach((subscriber) -> subscriber.coolingDown(backend, until));
		}

		@Override
		public void circuitOpen(String backend, long until, String reason) {
			SharedStateTests.this.subscribers.forEach((subscriber) -> subscriber.circuitOpen(backend, until));
		}

		@Override
		public void misconfigured(String backend, String reason) {
			SharedStateTests.this.subscribers.forEach((subscriber) -> subscriber.misconfigured(backend, reason));
		}

		@Override
		public void disabledByOperator(String backend, boolean disabled) {
			SharedStateTests.this.subscribers.forEach((subscriber) -> subscriber.disabledByOperator(backend, disabled));
		}

		@Override
		public void reset(String backend) {
			SharedStateTests.this.subscribers.forEach((subscriber) -> subscriber.reset(backend));
		}

	};

	@Test
	void a429SeenByOneInstanceKeepsTheOtherOffThatBackendForTheHintedTime() {
		LoadBalancer one = instance();
		LoadBalancer two = instance();
		Exchange exchange = one.begin();
		Step.Attempt attempt = (Step.Attempt) exchange.next();
		assertThat(attempt.backend().name()).isEqualTo("ptu");
		exchange.answered(attempt, 429, (name) -> "retry-after".equals(name) ? "20" : null, null);
		assertThat(two.backend("ptu").state()).isEqualTo(BackendState.COOLING_DOWN);
		assertThat(firstChoice(two)).isEqualTo("paygo");
		this.clock.advance(Duration.ofSeconds(20));
		assertThat(firstChoice(two)).isEqualTo("ptu");
		assertThat(firstChoice(one)).isEqualTo("ptu");
	}

	@Test
	void misconfigurationIsShared() {
		LoadBalancer one = instance();
		LoadBalancer two = instance();
		Exchange exchange = one.begin();
		exchange.answered((Step.Attempt) exchange.next(), 401, (name) -> null, null);
		assertThat(two.backend("ptu").state()).isEqualTo(BackendState.MISCONFIGURED);
	}

	@Test
	void aTimeoutSeenByOneInstanceKeepsTheOtherOffThatBackendForTheTimeoutCoolDown() {
		LoadBalancer one = instance();
		LoadBalancer two = instance();
		Exchange exchange = one.begin();
		exchange.timedOut((Step.Attempt) exchange.next(), new java.util.concurrent.TimeoutException());
		assertThat(two.backend("ptu").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		assertThat(two.backend("ptu").circuitOpenUntil()).isEqualTo(this.clock.instant().plusSeconds(10));
		assertThat(firstChoice(two)).isEqualTo("paygo");
		this.clock.advance(Duration.ofSeconds(10));
		assertThat(firstChoice(two)).isEqualTo("ptu");
	}

	@Test
	void newsOfATimeoutIsCappedAndNeverShortensALocalOpening() {
		LoadBalancer two = instance();
		this.subscribers.forEach((subscriber) -> subscriber.circuitOpen("ptu", Long.MAX_VALUE));
		assertThat(two.backend("ptu").circuitOpenUntil()).isEqualTo(this.clock.instant().plus(Duration.ofMinutes(5)));
		this.subscribers.forEach((subscriber) -> subscriber.circuitOpen("ptu", this.clock.millis() + 1_000));
		assertThat(two.backend("ptu").circuitOpenUntil()).isEqualTo(this.clock.instant().plus(Duration.ofMinutes(5)));
		this.subscribers.forEach((subscriber) -> subscriber.circuitOpen("elsewhere", this.clock.millis() + 1_000));
		assertThat(two.backend("paygo").state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void newsOfAnOldCoolDownIsIgnored() {
		LoadBalancer two = instance();
		this.subscribers.forEach((subscriber) -> subscriber.coolingDown("ptu", this.clock.millis() - 1));
		assertThat(two.backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void newsOfAShorterCoolDownDoesNotShortenALongerLocalOne() {
		LoadBalancer two = instance();
		Exchange exchange = two.begin();
		exchange.answered((Step.Attempt) exchange.next(), 429, (name) -> "retry-after".equals(name) ? "60" : null, null);
		this.subscribers.forEach((subscriber) -> subscriber.coolingDown("ptu", this.clock.millis() + 5_000));
		assertThat(two.backend("ptu").coolingDownUntil()).isEqualTo(this.clock.instant().plusSeconds(60));
	}

	@Test
	void newsOfACoolDownBeyondMaxCoolDownIsCapped() {
		LoadBalancer two = instance();
		this.subscribers.forEach((subscriber) -> subscriber.coolingDown("ptu", Long.MAX_VALUE));
		assertThat(two.backend("ptu").coolingDownUntil()).isEqualTo(this.clock.instant().plus(Duration.ofMinutes(5)));
	}

	@Test
	void newsOfABackendNotConfiguredHereIsIgnored() {
		LoadBalancer two = instance();
		this.subscribers.forEach((subscriber) -> {
			assertThat(subscriber.backends()).containsExactly("ptu", "paygo");
			subscriber.coolingDown("elsewhere", this.clock.millis() + 5_000);
			subscriber.misconfigured("elsewhere", "answered 401");
		});
		assertThat(two.backends()).allSatisfy((backend) -> assertThat(backend.state()).isEqualTo(BackendState.AVAILABLE));
	}

	@Test
	void aReasonFromElsewhereIsCutToOneShortPrintableLine() {
		LoadBalancer two = instance();
		this.subscribers.forEach((subscriber) -> subscriber.misconfigured("ptu",
				"answered 401\r\n\u001b[2J" + "x".repeat(1000)));
		assertThat(two.backend("ptu").misconfiguration()).startsWith("answered 401")
			.hasSize(SharedState.MAX_REASON_LENGTH)
			.doesNotContain("\r", "\n", "\u001b");
	}

	@Test
	void anOperatorsDisableEnableAndResetReachEveryInstance() {
		LoadBalancer one = instance();
		LoadBalancer two = instance();
		one.disable("ptu");
		assertThat(two.backend("ptu").state()).isEqualTo(BackendState.DISABLED);
		assertThat(firstChoice(two)).isEqualTo("paygo");
		one.enable("ptu");
		assertThat(firstChoice(two)).isEqualTo("ptu");

		Exchange exchange = two.begin();
		exchange.answered((Step.Attempt) exchange.next(), 429, (name) -> "retry-after".equals(name) ? "60" : null, null);
		assertThat(one.backend("ptu").state()).isEqualTo(BackendState.COOLING_DOWN);
		one.reset("ptu");
		assertThat(two.backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(firstChoice(two)).isEqualTo("ptu");
	}

	@Test
	void operatorNewsOfABackendNotConfiguredHereIsIgnored() {
		LoadBalancer two = instance();
		this.subscribers.forEach((subscriber) -> {
			subscriber.disabledByOperator("elsewhere", true);
			subscriber.reset("elsewhere");
		});
		assertThat(two.backends()).allSatisfy((backend) -> assertThat(backend.state()).isEqualTo(BackendState.AVAILABLE));
	}

	private LoadBalancer instance() {
		BalancerConfig config = BalancerConfig.builder()
			.backend(new BalancerConfig.BackendBuilder().name("ptu").url("http://ptu"))
			.backend(new BalancerConfig.BackendBuilder().name("paygo").url("http://paygo").priority(2))
			.build();
		return LoadBalancer.builder(config)
			.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker)
			.sharedState(this.channel)
			.build();
	}

	private static String firstChoice(LoadBalancer balancer) {
		Exchange exchange = balancer.begin();
		Step.Attempt attempt = (Step.Attempt) exchange.next();
		exchange.answered(attempt, 200, (name) -> null, null);
		return attempt.backend().name();
	}

}
