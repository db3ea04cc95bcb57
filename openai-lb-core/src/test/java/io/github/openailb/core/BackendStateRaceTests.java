package io.github.openailb.core;

import java.util.concurrent.atomic.AtomicReference;

import io.github.openailb.testsupport.MutableClock;
import io.github.openailb.testsupport.Race;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.github.openailb.core.EngineFixtures.backend;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend's cool-down deadline written by several threads at once: a success clearing an
 * ended cool-down, a fresh local hint, news from other instances. 10,000 rounds per race; after
 * each, the deadline must be the one the rules give whatever the interleaving, and the breaker
 * must agree with it.
 */
@ExtendWith(QuietEngineLogs.class)
class BackendStateRaceTests {

	private static final int ROUNDS = 10_000;


	private final MutableClock clock = new MutableClock();

	private final AtomicReference<SharedState.Listener> remote = new AtomicReference<>();

	private Backend backend;

	@BeforeEach
	void balancer() {
		LoadBalancer lb = LoadBalancer.builder(BalancerConfig.builder().backend(backend("a")).build())
			.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker)
			.sharedState(new SharedState() {

				@Override
				public void start(Listener listener) {
					BackendStateRaceTests.this.remote.set(listener);
				}

			})
			.build();
		this.backend = lb.backend("a");
	}

	@Test
	void aSuccessNeverErasesACoolDownThatStartsWhileItClearsAnEndedOne() throws Exception {
		int erased = 0;
		try (Race race = new Race(7)) {
			for (int round = 0; round < ROUNDS; round++) {
				long now = nextRound();
				this.backend.coolDown(now - 1);
				race.run(() -> this.backend.clearImpairment(now), () -> this.backend.coolDown(now + 1_000));
				if (this.backend.coolDownDeadline() != now + 1_000) {
					erased++;
				}
			}
		}
		assertThat(erased).as("%d of %d rounds lost the new cool-down", erased, ROUNDS).isZero();
	}

	@Test
	void remoteNewsNeverShortensALocalCoolDownThatStartsMeanwhile() throws Exception {
		int shortened = 0;
		int breakerDisagrees = 0;
		try (Race race = new Race(8)) {
			for (int round = 0; round < ROUNDS; round++) {
				long now = nextRound();
				race.run(() -> this.remote.get().coolingDown("a", now + 500),
						() -> this.backend.coolDown(now + 5_000));
				if (this.backend.coolDownDeadline() != now + 5_000) {
					shortened++;
				}
				else if (!breakerOpenUntil(now + 5_000)) {
					breakerDisagrees++;
				}
			}
		}
		assertThat(shortened + breakerDisagrees)
			.as("%d of %d rounds shortened the local cool-down, %d left the breaker open for another time", shortened,
					ROUNDS, breakerDisagrees)
			.isZero();
	}

	@Test
	void twoRemoteNewsKeepTheLaterDeadline() throws Exception {
		int lost = 0;
		try (Race race = new Race(9)) {
			for (int round = 0; round < ROUNDS; round++) {
				long now = nextRound();
				race.run(() -> this.remote.get().coolingDown("a", now + 500),
						() -> this.remote.get().coolingDown("a", now + 900));
				if (this.backend.coolDownDeadline() != now + 900 || !breakerOpenUntil(now + 900)) {
					lost++;
				}
			}
		}
		assertThat(lost).as("%d of %d rounds kept the earlier deadline", lost, ROUNDS).isZero();
	}

	@Test
	void aResetAndANewLocalHintLeaveEitherTheNewCoolDownWithItsBreakerOrNeither() throws Exception {
		assertResetRace(10, (now) -> this.backend.coolDown(now + 5_000));
	}

	@Test
	void aResetAndRemoteNewsLeaveEitherTheNewCoolDownWithItsBreakerOrNeither() throws Exception {
		assertResetRace(11, (now) -> this.remote.get().coolingDown("a", now + 5_000));
	}

	/**
	 * A reset racing a new cool-down: whichever wins, deadline and breaker agree, never a
	 * cool-down without its open breaker nor an open breaker the reset left without one.
	 */
	private void assertResetRace(long seed, java.util.function.LongConsumer hint) throws Exception {
		int disagree = 0;
		int kept = 0;
		try (Race race = new Race(seed)) {
			for (int round = 0; round < ROUNDS; round++) {
				long now = nextRound();
				this.backend.coolDown(now + 1_000);
				race.run(this.backend::reset, () -> hint.accept(now));
				long deadline = this.backend.coolDownDeadline();
				if (deadline == now + 5_000) {
					kept++;
					if (!breakerOpenUntil(now + 5_000)) {
						disagree++;
					}
				}
				else if (deadline != 0 || this.backend.breaker().getState() != io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED) {
					disagree++;
				}
			}
		}
		assertThat(disagree).as("%d of %d rounds left deadline and breaker disagreeing (%d kept the new cool-down)",
				disagree, ROUNDS, kept).isZero();
	}

	/** Move well past the previous round's deadlines, so each round starts from a free backend. */
	private long nextRound() {
		this.clock.advanceMillis(10_000);
		return this.clock.millis();
	}

	/** Whether the breaker refuses a probe just before the deadline and lets one through at it. */
	private boolean breakerOpenUntil(long deadline) {
		long now = this.clock.millis();
		this.clock.advanceMillis(deadline - 1 - now);
		boolean refusesBefore = !this.backend.breaker().tryAcquirePermission();
		this.clock.advanceMillis(1);
		boolean permitsAt = this.backend.breaker().tryAcquirePermission();
		if (permitsAt) {
			this.backend.breaker().releasePermission();
		}
		return refusesBefore && permitsAt;
	}

}
