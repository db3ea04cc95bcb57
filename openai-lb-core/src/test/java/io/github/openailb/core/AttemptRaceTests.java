package io.github.openailb.core;

import java.io.IOException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

import io.github.openailb.testsupport.MutableClock;
import io.github.openailb.testsupport.Race;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.backend;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two reports of one attempt racing on two threads, as a caller's cancel races the answer on an
 * I/O thread, or a response timeout races a late answer. Each round gives a request's first
 * attempt to a fresh, real Resilience4j breaker in HALF_OPEN (3 probe permits), runs both reports
 * at the same moment, and then checks the books: the permission was either given back or spent
 * on exactly one recorded result, never both; the backend counted the attempt once or not at
 * all; the request ended once. 12,000 rounds in all, a few seconds.
 */
@ExtendWith(QuietEngineLogs.class)
class AttemptRaceTests {

	/** Per race: 12,000 rounds in all; {@code -Dopenailb.race.rounds} runs more. */
	private static final int ROUNDS = Integer.getInteger("openailb.race.rounds", 1_500);


	private static final TimeoutException TIMED_OUT = new TimeoutException("no response within 3000 ms");

	private static final IOException RESET = new IOException("Connection reset by peer");

	private static final int PERMITS = 3;

	private static final BalancerConfig CONFIG = BalancerConfig.builder()
		.backend(backend("a"))
		.backend(backend("b").priority(2))
		.build();

	private final MutableClock clock = new MutableClock();

	private final CircuitBreakerConfig breakerConfig = LoadBalancer.defaultBreakerConfig(this.clock);

	private static final BiConsumer<Exchange, Step.Attempt> OK = (exchange, attempt) -> exchange.answered(attempt,
			200, NO_HEADERS, null);

	private static final BiConsumer<Exchange, Step.Attempt> CANCEL = Exchange::abandoned;

	private static final BiConsumer<Exchange, Step.Attempt> TIMEOUT = (exchange, attempt) -> exchange.failed(attempt,
			TIMED_OUT);

	static Stream<RaceCase> races() {
		return Stream.of(new RaceCase("cancel vs 200", OK, CANCEL), new RaceCase("cancel vs timeout", TIMEOUT, CANCEL),
				new RaceCase("200 vs timeout", OK, TIMEOUT),
				new RaceCase("503 vs timeout", (exchange, attempt) -> exchange.answered(attempt, 503, NO_HEADERS, ""),
						TIMEOUT),
				new RaceCase("cancel vs 200 whose stream then breaks", OK.andThen((exchange, attempt) -> exchange
					.streamBroke(attempt, RESET)), CANCEL),
				new RaceCase("cancel vs credential failure",
						(exchange, attempt) -> exchange.credentialFailed(attempt, "no token"), CANCEL),
				new RaceCase("cancel vs 400", (exchange, attempt) -> exchange.answered(attempt, 400, NO_HEADERS, null),
						CANCEL),
				// the caller's cancel names the attempt it knows of, while the request fails over
				new RaceCase("cancel vs failover to the next backend",
						TIMEOUT.andThen((exchange, attempt) -> exchange.next()), CANCEL));
	}

	@ParameterizedTest
	@MethodSource("races")
	void everyPermitIsGivenBackOrSpentExactlyOnce(RaceCase raceCase) throws Exception {
		boolean cancels = raceCase.second() == CANCEL;
		int unbalanced = 0;
		int leakedPermits = 0;
		int wrongEnds = 0;
		String example = null;
		try (Race race = new Race(42)) {
			for (int round = 0; round < ROUNDS; round++) {
				EndCounter ends = new EndCounter();
				LoadBalancer lb = LoadBalancer.builder(CONFIG)
					.clock(this.clock)
					.circuitBreakers(this::halfOpen)
					.listener(ends)
					.build();
				Exchange exchange = lb.begin();
				Step.Attempt attempt = (Step.Attempt) exchange.next();
				race.run(() -> raceCase.first().accept(exchange, attempt),
						() -> raceCase.second().accept(exchange, attempt));
				long attempts = 0;
				for (Backend backend : lb.backends()) {
					Books books = Books.of(backend);
					attempts += books.counted;
					if (!books.balanced(raceCase.streamBreaks())) {
						unbalanced++;
						leakedPermits += Math.max(0, books.leaked());
						example = (example != null) ? example : backend.name() + ": " + books;
					}
				}
				int requestEnds = ends.requests.get();
				if ((cancels ? requestEnds != 1 : requestEnds > 1) || ends.attempts.get() != attempts) {
					wrongEnds++;
					example = (example != null) ? example
							: requestEnds + " request ends, " + ends.attempts + " attempt ends for " + attempts
									+ " counted attempts";
				}
			}
		}
		assertThat(unbalanced + wrongEnds)
			.as("%s: %d of %d rounds unbalanced (%d permits leaked), %d with ends reported wrongly; e.g. %s",
					raceCase, unbalanced, ROUNDS, leakedPermits, wrongEnds, example)
			.isZero();
	}

	private CircuitBreaker halfOpen(String name) {
		CircuitBreaker breaker = CircuitBreaker.of(name, this.breakerConfig);
		breaker.transitionToOpenState();
		breaker.transitionToHalfOpenState();
		return breaker;
	}

	/**
	 * One backend's breaker and counters after a round. Every permission taken is either back
	 * (available again) or spent on one recorded verdict: a counted success or failure. A broken
	 * stream adds one failure to a success already counted, without a permission of its own.
	 */
	private record Books(String state, int available, long successes, long failures, long counted,
			long countedSuccesses, long countedFailures) {

		static Books of(Backend backend) {
			CircuitBreaker breaker = backend.breaker();
			String state = breaker.getState().name();
			int available = 0;
			while (available < 2 * PERMITS && breaker.tryAcquirePermission()) {
				available++;
			}
			CircuitBreaker.Metrics metrics = breaker.getMetrics();
			Backend.Counts counts = backend.counts();
			return new Books(state, available, metrics.getNumberOfSuccessfulCalls(), metrics.getNumberOfFailedCalls(),
					counts.attempts(), counts.successes(), counts.failures());
		}

		/** Permissions handed back although they were also spent (or handed back twice). */
		int leaked() {
			return this.available - (PERMITS - (int) (this.countedSuccesses + this.countedFailures));
		}

		boolean balanced(boolean streamBreaks) {
			long brokenStreams = streamBreaks ? this.countedSuccesses : 0;
			return "HALF_OPEN".equals(this.state) && leaked() == 0 && this.counted <= 1
					&& this.successes == this.countedSuccesses && this.failures == this.countedFailures + brokenStreams;
		}

	}

	/**
	 * Two reports of the same attempt, run at the same moment.
	 *
	 * @param name what races
	 * @param first one report (or reports in order)
	 * @param second the other
	 */
	record RaceCase(String name, BiConsumer<Exchange, Step.Attempt> first, BiConsumer<Exchange, Step.Attempt> second) {

		/** Whether a stream breaks after its answer, adding a failure to a counted success. */
		boolean streamBreaks() {
			return this.name.contains("stream");
		}

		@Override
		public String toString() {
			return this.name;
		}

	}

	/** Counts attempt and request ends; one per round, so plain atomics suffice. */
	private static final class EndCounter implements BalancerListener {

		final AtomicInteger attempts = new AtomicInteger();

		final AtomicInteger requests = new AtomicInteger();

		@Override
		public void attemptEnded(Backend backend, Outcome outcome, long nanos) {
			this.attempts.incrementAndGet();
		}

		@Override
		public void requestEnded(int attempts, Step.Ending ending) {
			this.requests.incrementAndGet();
		}

	}

}
