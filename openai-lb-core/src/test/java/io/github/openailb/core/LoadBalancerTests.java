package io.github.openailb.core;

import io.github.openailb.testsupport.MutableClock;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static io.github.openailb.core.EngineFixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link LoadBalancer}: choosing a backend (SPEC §2), breakers, shared state.
 */
class LoadBalancerTests {

	private final MutableClock clock = new MutableClock();

	@Test
	void bestPriorityFirstWhateverTheDeclarationOrder() {
		LoadBalancer lb = balancer(backend("c").priority(3), backend("a").priority(2), backend("b").priority(1));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "b"), 500, NO_HEADERS, null);
		exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
		exchange.answered(attempt(exchange, "c"), 500, NO_HEADERS, null);
		assertThat(giveUp(exchange).ending()).isEqualTo(Step.Ending.LAST_ANSWER);
		assertThat(exchange.attempts()).isEqualTo(3);
	}

	@Test
	void lowerTierOnlyWhenEveryHigherOneIsUnavailable() {
		LoadBalancer lb = balancer(backend("a"), backend("b"), backend("c").priority(2));
		Map<String, Integer> picks = pickMany(lb, 1000);
		assertThat(picks).containsOnlyKeys("a", "b");
		throttle(lb, "a");
		assertThat(pickMany(lb, 200)).containsOnlyKeys("b");
		throttle(lb, "b");
		assertThat(pickMany(lb, 200)).containsOnlyKeys("c");
	}

	@Test
	void lowerTierWhenHigherBreakerIsOpen() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		lb.backend("a").breaker().transitionToForcedOpenState();
		assertThat(pickMany(lb, 50)).containsOnlyKeys("b");
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
	}

	@Test
	void disabledBackendsAreSkipped() {
		LoadBalancer lb = balancer(backend("a").enabled(false), backend("b").priority(2).enabled(true),
				backend("c").priority(2).enabled(false));
		assertThat(pickMany(lb, 200)).containsOnlyKeys("b");
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.DISABLED);
		assertThat(lb.backend("c").counts().attempts()).isZero();
	}

	@Test
	void allDisabledFailsWithoutAttempt() {
		LoadBalancer lb = balancer(backend("a").enabled(false), backend("b").enabled(false));
		assertThat(lb.canTakeTraffic()).isFalse();
		Exchange exchange = lb.begin();
		Step.GiveUp giveUp = giveUp(exchange);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.FAILED);
		assertThat(giveUp.reason()).isEqualTo("no backend is available (a: DISABLED, b: DISABLED)");
		assertThat(exchange.attempts()).isZero();
	}

	@Test
	void aBackendTriedForARequestIsNotTriedAgainForIt() {
		LoadBalancer lb = balancer(backend("a"), backend("b"), backend("c"));
		for (int i = 0; i < 100; i++) {
			Exchange exchange = lb.begin();
			List<String> tried = new ArrayList<>();
			Step step;
			while ((step = exchange.next()) instanceof Step.Attempt attempt) {
				tried.add(attempt.backend().name());
				exchange.answered(attempt, 503, NO_HEADERS, null);
			}
			assertThat(tried).hasSize(3).doesNotHaveDuplicates();
			assertThat(step).isInstanceOf(Step.GiveUp.class);
			this.clock.advance(Duration.ofMinutes(1));
			reset(lb);
		}
	}

	@Test
	void weightsAreHonoured() {
		LoadBalancer lb = balancer(backend("light").weight(1), backend("heavy").weight(3), backend("other").priority(2));
		Map<String, Integer> picks = pickMany(lb, 20_000);
		assertThat(picks).containsOnlyKeys("light", "heavy");
		// expected 0.75 (sd 0.003 for 20,000 draws); the seed is fixed, the tolerance is 8 sd
		assertThat(picks.get("heavy") / 20_000.0).isCloseTo(0.75, within(0.025));
	}

	@Test
	void equalWeightsAreUniform() {
		LoadBalancer lb = balancer(backend("a"), backend("b"), backend("c"), backend("d").priority(2));
		Map<String, Integer> picks = pickMany(lb, 20_000);
		assertThat(picks).containsOnlyKeys("a", "b", "c");
		for (int count : picks.values()) {
			assertThat(count / 20_000.0).isCloseTo(1 / 3.0, within(0.025));
		}
	}

	@Test
	void weightsAmongTheRemainingBackendsOfTheTier() {
		LoadBalancer lb = balancer(backend("a").weight(5), backend("b").weight(1), backend("c").weight(3));
		throttle(lb, "a");
		Map<String, Integer> picks = pickMany(lb, 20_000);
		assertThat(picks).containsOnlyKeys("b", "c");
		assertThat(picks.get("c") / 20_000.0).isCloseTo(0.75, within(0.025));
	}

	@ParameterizedTest
	@EnumSource(Strategy.class)
	void aLargeTierGivesEachEligibleBackendExactlyItsWeightAndNoOtherAnyShare(Strategy strategy) {
		BalancerConfig.Builder config = BalancerConfig.builder().strategy(strategy);
		// a best tier of disabled backends puts the first eligible one past the first 64 positions
		for (int i = 0; i < 70; i++) {
			config.backend(backend("off-" + i).enabled(false));
		}
		for (int i = 0; i < 200; i++) {
			config.backend(backend("b-" + i).priority(2).weight(1 + i % 4));
		}
		config.backend(backend("spare").priority(3));
		// headroom scales weights by 1000: the draws step by as much, so that one round of the total
		// weight draws each backend exactly its weight
		long unit = (strategy == Strategy.HEADROOM) ? 1000 : 1;
		RandomGenerator draws = new RandomGenerator() {

			private long next;

			@Override
			public long nextLong() {
				return this.next++;
			}

			@Override
			public long nextLong(long bound) {
				return (this.next++ * unit) % bound;
			}

		};
		LoadBalancer lb = LoadBalancer.builder(config.build()).clock(this.clock).random(draws).build();
		// half its quota left: under headroom this backend's weight 4 counts as 2
		lb.backend("b-199").report(new Headroom(60, 120, -1, -1, this.clock.millis(), this.clock.millis() + 60_000));
		Map<String, Integer> expected = new HashMap<>();
		int total = 0;
		for (int i = 0; i < 200; i++) {
			String name = "b-" + i;
			if (i % 9 == 4) {
				lb.disable(name);
			}
			else if (i % 11 == 6) {
				lb.backend(name).coolDown(this.clock.millis() + 60_000);
			}
			else {
				int weight = (i == 199 && strategy == Strategy.HEADROOM) ? 2 : 1 + i % 4;
				expected.put(name, weight);
				total += weight;
			}
		}
		assertThat(pickMany(lb, total)).isEqualTo(expected);
	}

	@Test
	void breakerOpensAfterEnoughFailuresAndIsSkippedWhileOpen() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		Backend a = lb.backend("a");
		for (int i = 0; i < 9; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
			exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		}
		assertThat(a.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
		Exchange tenth = lb.begin();
		tenth.failed(attempt(tenth, "a"), new ConnectException("Connection refused"));
		assertThat(a.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
		assertThat(a.state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		assertThat(a.coolingDownUntil()).as("a failure-rate open is not a cool-down").isNull();
		assertThat(pickMany(lb, 50)).containsOnlyKeys("b");
		assertThat(a.counts().attempts()).isEqualTo(10);
	}

	@Test
	void openBreakerSetsTheRetryAfterOfAGiveUpAndLetsAProbeThroughWhenItEnds() {
		LoadBalancer lb = balancer(backend("a"));
		Backend a = lb.backend("a");
		for (int i = 0; i < 10; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 502, NO_HEADERS, null);
			assertThat(giveUp(exchange).ending()).isEqualTo(Step.Ending.LAST_ANSWER);
		}
		assertThat(a.state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		this.clock.advance(Duration.ofMillis(500));
		Exchange refused = lb.begin();
		Step.GiveUp giveUp = giveUp(refused);
		// open after failures, not throttled: the caller gets 503, not 429
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.UNAVAILABLE);
		// default breaker: open for 30s, of which 0.5s have passed
		assertThat(giveUp.retryAfterSeconds()).isEqualTo(30);
		assertThat(refused.attempts()).isZero();
		assertThat(lb.canTakeTraffic()).isFalse();
		this.clock.advance(Duration.ofSeconds(30));
		assertThat(lb.canTakeTraffic()).isTrue();
		Exchange probe = lb.begin();
		probe.answered(attempt(probe, "a"), 200, NO_HEADERS, null);
		assertThat(a.state()).isEqualTo(BackendState.HALF_OPEN);
		for (int i = 0; i < 2; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 200, NO_HEADERS, null);
		}
		assertThat(a.state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void canAnswerWhileBackendsAreOnlyThrottledOrWaitingForTheirProbe() {
		LoadBalancer lb = balancer(backend("a"), backend("b").priority(2));
		throttle(lb, "a");
		for (int i = 0; i < 10; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "b"), 502, NO_HEADERS, null);
		}
		assertThat(lb.backend("b").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		assertThat(lb.backend("b").circuitOpenUntil()).isEqualTo(this.clock.instant().plusSeconds(30).plusMillis(1));
		assertThat(lb.canTakeTraffic()).isFalse();
		assertThat(lb.canAnswer()).isTrue();
		assertThat(lb.backend("a").takesTrafficNow()).isFalse();
		assertThat(lb.backend("a").canAnswer()).isTrue();
	}

	@Test
	void cannotAnswerWhenEveryBackendIsDisabledMisconfiguredOrForcedOpen() {
		LoadBalancer lb = balancer(backend("a").enabled(false), backend("b"), backend("c").priority(2));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "b"), 401, NO_HEADERS, null);
		assertThat(lb.canAnswer()).isTrue();
		lb.backend("c").breaker().transitionToForcedOpenState();
		assertThat(lb.canAnswer()).isFalse();
		// still selectable, and a success clears the mark
		assertThat(lb.backend("b").takesTrafficNow()).isTrue();
		Exchange again = lb.begin();
		again.answered(attempt(again, "b"), 200, NO_HEADERS, null);
		assertThat(lb.canAnswer()).isTrue();
	}

	@Test
	void backendLookupAndDeclarationOrder() {
		LoadBalancer lb = balancer(backend("b").priority(2), backend("a"));
		assertThat(lb.backends()).extracting(Backend::name).containsExactly("b", "a");
		assertThat(lb.backend("a").config().priority()).isEqualTo(1);
		assertThat(lb.backend("zzz")).isNull();
		assertThat(lb.canTakeTraffic()).isTrue();
		assertThat(lb.backend("a").breaker().getName()).isEqualTo("a");
		assertThat(lb.backend("a").toString()).isEqualTo("a");
	}

	@Test
	void breakersComeFromTheGivenFunction() {
		List<String> asked = new ArrayList<>();
		io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry registry = io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry
			.of(LoadBalancer.defaultBreakerConfig(this.clock));
		LoadBalancer lb = LoadBalancer.builder(config(backend("a"), backend("b")))
			.clock(this.clock)
			.circuitBreakers((name) -> {
				asked.add(name);
				return registry.circuitBreaker(name);
			})
			.build();
		assertThat(asked).containsExactly("a", "b");
		assertThat(lb.backend("a").breaker()).isSameAs(registry.circuitBreaker("a"));
	}

	@Test
	void concurrentRequestsKeepConsistentCounts() throws Exception {
		LongAdder requestsEnded = new LongAdder();
		LongAdder attemptsEnded = new LongAdder();
		BalancerListener listener = new BalancerListener() {

			@Override
			public void attemptEnded(Backend backend, Outcome outcome, long nanos) {
				attemptsEnded.increment();
			}

			@Override
			public void requestEnded(int attempts, Step.Ending ending) {
				requestsEnded.increment();
			}

		};
		BalancerConfig config = BalancerConfig.builder()
			.backend(backend("a").weight(2))
			.backend(backend("b"))
			.backend(backend("c").priority(2))
			.maxWait(Duration.ofMillis(200))
			.defaultRetryAfter(Duration.ofMillis(30))
			.build();
		LoadBalancer lb = LoadBalancer.builder(config).clock(this.clock).random(new Random(42)).listener(listener).build();
		int threads = 8;
		int perThread = 5_000;
		LongAdder attempts = new LongAdder();
		LongAdder waits = new LongAdder();
		CountDownLatch start = new CountDownLatch(1);
		ExecutorService executor = Executors.newFixedThreadPool(threads);
		try {
			List<Future<?>> done = new ArrayList<>();
			for (int t = 0; t < threads; t++) {
				Random outcomes = new Random(1000 + t);
				done.add(executor.submit(() -> {
					start.await();
					for (int i = 0; i < perThread; i++) {
						runRandomRequest(lb, outcomes, attempts, waits);
						// time moves on so that cool-downs (<= 300 ms) and open breakers (30 s) end now and then
						this.clock.advanceMillis(outcomes.nextInt(200));
					}
					return null;
				}));
			}
			start.countDown();
			for (Future<?> future : done) {
				future.get(60, TimeUnit.SECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
		assertThat(requestsEnded.sum()).isEqualTo(threads * perThread);
		assertThat(attemptsEnded.sum()).isEqualTo(attempts.sum());
		long counted = 0;
		for (Backend backend : lb.backends()) {
			Backend.Counts counts = backend.counts();
			assertThat(counts.successes() + counts.throttled() + counts.failures() + counts.misconfigured()
					+ counts.clientErrors())
				.isEqualTo(counts.attempts());
			counted += counts.attempts();
		}
		assertThat(counted).isEqualTo(attempts.sum());
		// the mix really went through backends, waits and failovers (breakers open for 30s now and then)
		// about 25,000 attempts and 3,000 waits in practice; interleaving varies, so a wide margin
		assertThat(attempts.sum()).isGreaterThan(threads * perThread / 4);
		assertThat(waits.sum()).isPositive();
		assertThat(lb.backends()).allSatisfy((backend) -> assertThat(backend.counts().attempts()).isPositive());
	}

	private void runRandomRequest(LoadBalancer lb, Random outcomes, LongAdder attempts, LongAdder waits) {
		Exchange exchange = lb.begin();
		while (true) {
			Step step = exchange.next();
			if (step instanceof Step.Wait wait) {
				waits.increment();
				this.clock.advance(wait.delay());
				continue;
			}
			if (!(step instanceof Step.Attempt attempt)) {
				return;
			}
			attempts.increment();
			int roll = outcomes.nextInt(100);
			if (roll < 55) {
				exchange.answered(attempt, 200, NO_HEADERS, null);
				return;
			}
			if (roll < 70) {
				exchange.answered(attempt, 429, headers("retry-after-ms", String.valueOf(1 + outcomes.nextInt(300))),
						null);
			}
			else if (roll < 80) {
				exchange.answered(attempt, 500, NO_HEADERS, null);
			}
			else if (roll < 85) {
				exchange.failed(attempt, new IOException("Connection reset"));
			}
			else if (roll < 90) {
				exchange.answered(attempt, 401, NO_HEADERS, null);
			}
			else if (roll < 93) {
				exchange.credentialFailed(attempt, "token unavailable");
			}
			else if (roll < 96) {
				exchange.abandoned(attempt);
				attempts.decrement();
				return;
			}
			else {
				exchange.answered(attempt, 400, NO_HEADERS, null);
				return;
			}
		}
	}

	private Map<String, Integer> pickMany(LoadBalancer lb, int requests) {
		Map<String, Integer> picks = new HashMap<>();
		for (int i = 0; i < requests; i++) {
			Exchange exchange = lb.begin();
			Step.Attempt attempt = attempt(exchange);
			picks.merge(attempt.backend().name(), 1, Integer::sum);
			exchange.answered(attempt, 200, NO_HEADERS, null);
		}
		return picks;
	}

	/** Make the named backend answer one 429 with a long hint. */
	private static void throttle(LoadBalancer lb, String name) {
		Exchange exchange = lb.begin();
		Step step;
		while ((step = exchange.next()) instanceof Step.Attempt attempt) {
			if (attempt.backend().name().equals(name)) {
				exchange.answered(attempt, 429, headers("retry-after", "600"), null);
				exchange.abandoned(null);
				assertThat(lb.backend(name).state()).isEqualTo(BackendState.COOLING_DOWN);
				return;
			}
			// another backend: give it back without blaming it
			exchange.answered(attempt, 404, NO_HEADERS, null);
			lb.backend(attempt.backend().name()).clearImpairment(Long.MAX_VALUE);
		}
		throw new AssertionError("backend " + name + " was never chosen");
	}

	private static void reset(LoadBalancer lb) {
		for (Backend backend : lb.backends()) {
			backend.breaker().reset();
		}
	}

	private LoadBalancer balancer(BalancerConfig.BackendBuilder... backends) {
		return LoadBalancer.builder(config(backends)).clock(this.clock).random(new Random(42)).build();
	}

	private static BalancerConfig config(BalancerConfig.BackendBuilder... backends) {
		BalancerConfig.Builder builder = BalancerConfig.builder();
		for (BalancerConfig.BackendBuilder backend : backends) {
			builder.backend(backend);
		}
		return builder.build();
	}

}
