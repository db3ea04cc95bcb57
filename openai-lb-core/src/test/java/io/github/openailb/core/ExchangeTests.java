package io.github.openailb.core;

import io.github.openailb.testsupport.MutableClock;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static io.github.openailb.core.EngineFixtures.headers;
import static io.github.openailb.core.EngineFixtures.waitStep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link Exchange}: one request attempt by attempt (SPEC §3).
 */
class ExchangeTests {

	private final MutableClock clock = new MutableClock();

	private final EngineFixtures.RecordingListener listener = new EngineFixtures.RecordingListener();

	// 429 and cool-downs

	@Test
	void throttledBackendCoolsDownForTheHintedTimeAndTheRequestMovesOnAtOnce() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Instant start = this.clock.instant();
		Exchange exchange = lb.begin();
		Step.Attempt first = attempt(exchange, "a");
		assertThat(first.number()).isEqualTo(1);
		assertThat(exchange.answered(first, 429, headers("retry-after", "7"), null)).isEqualTo(Outcome.THROTTLED);
		Backend a = lb.backend("a");
		assertThat(a.coolingDownUntil()).isEqualTo(start.plusSeconds(7));
		assertThat(a.state()).isEqualTo(BackendState.COOLING_DOWN);
		assertThat(a.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
		Step.Attempt second = attempt(exchange, "b");
		assertThat(second.number()).isEqualTo(2);
		assertThat(this.clock.instant()).as("no sleep").isEqualTo(start);
	}

	@Test
	void everyHintSourceSetsTheDeadline() {
		assertCoolDown(headers("retry-after-ms", "1500"), null, Duration.ofMillis(1500));
		assertCoolDown(headers("retry-after", "12"), null, Duration.ofSeconds(12));
		assertCoolDown(headers("x-ratelimit-reset-tokens", "1m30s"), null, Duration.ofSeconds(90));
		assertCoolDown(headers("x-ratelimit-reset-requests", "20ms"), null, Duration.ofMillis(20));
		assertCoolDown(NO_HEADERS, "{\"error\":{\"message\":\"... Please retry after 6 seconds.\"}}", Duration.ofSeconds(6));
	}

	@Test
	void noHintMeansDefaultRetryAfter() {
		assertCoolDown(NO_HEADERS, null, Duration.ofSeconds(10));
		assertCoolDown(headers("retry-after", "garbage"), "{}", Duration.ofSeconds(10));
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a"))
			.defaultRetryAfter(Duration.ofMillis(2500))
			.build());
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, NO_HEADERS, null);
		assertThat(lb.backend("a").coolingDownUntil()).isEqualTo(this.clock.instant().plusMillis(2500));
	}

	@Test
	void absurdHintsAreCappedAtMaxCoolDown() {
		assertCoolDown(headers("retry-after", "999999999999"), null, Duration.ofMinutes(5));
		assertCoolDown(headers("retry-after-ms", "86400000"), null, Duration.ofMinutes(5));
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a"))
			.maxCoolDown(Duration.ofSeconds(30))
			.defaultRetryAfter(Duration.ofMinutes(1))
			.build());
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, NO_HEADERS, null);
		assertThat(lb.backend("a").coolingDownUntil()).isEqualTo(this.clock.instant().plusSeconds(30));
		assertThat(this.listener.events).contains("coolDownStarted a PT30S");
	}

	@Test
	void aNewHintMovesTheDeadlineShorterOrLonger() {
		LoadBalancer lb = balancer(config(backend("a")));
		Backend a = lb.backend("a");
		Exchange one = lb.begin();
		Exchange two = lb.begin();
		Exchange three = lb.begin();
		Step.Attempt first = attempt(one, "a");
		Step.Attempt second = attempt(two, "a");
		Step.Attempt third = attempt(three, "a");
		Instant now = this.clock.instant();
		one.answered(first, 429, headers("retry-after", "60"), null);
		assertThat(a.coolingDownUntil()).isEqualTo(now.plusSeconds(60));
		this.clock.advance(Duration.ofSeconds(1));
		two.answered(second, 429, headers("retry-after", "5"), null);
		assertThat(a.coolingDownUntil()).isEqualTo(now.plusSeconds(6));
		three.answered(third, 429, headers("retry-after", "20"), null);
		assertThat(a.coolingDownUntil()).isEqualTo(now.plusSeconds(21));
		// the breaker follows the newest deadline too
		this.clock.advance(Duration.ofSeconds(20));
		Exchange after = lb.begin();
		attempt(after, "a");
	}

	@Test
	void aShorterNewHintReleasesTheBackendAtTheNewDeadline() {
		LoadBalancer lb = balancer(config(backend("a")));
		Exchange one = lb.begin();
		Exchange two = lb.begin();
		Step.Attempt first = attempt(one, "a");
		Step.Attempt second = attempt(two, "a");
		one.answered(first, 429, headers("retry-after", "60"), null);
		two.answered(second, 429, headers("retry-after", "2"), null);
		this.clock.advance(Duration.ofSeconds(2));
		assertThat(lb.backend("a").state()).isNotEqualTo(BackendState.COOLING_DOWN);
		Exchange later = lb.begin();
		later.answered(attempt(later, "a"), 200, NO_HEADERS, null);
	}

	@Test
	void afterTheDeadlineTheBackendTakesTrafficAgain() {
		LoadBalancer lb = balancer(config(backend("a")));
		Backend a = lb.backend("a");
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after", "7"), null);
		assertThat(giveUp(exchange).retryAfterSeconds()).isEqualTo(7);
		this.clock.advance(Duration.ofMillis(6999));
		assertThat(giveUp(lb.begin()).retryAfterSeconds()).isEqualTo(1);
		assertThat(a.state()).isEqualTo(BackendState.COOLING_DOWN);
		this.clock.advance(Duration.ofMillis(1));
		assertThat(a.state()).isNotEqualTo(BackendState.COOLING_DOWN);
		assertThat(a.coolingDownUntil()).isNull();
		assertThat(lb.canTakeTraffic()).isTrue();
		Exchange probe = lb.begin();
		probe.answered(attempt(probe, "a"), 200, NO_HEADERS, null);
		assertThat(a.breaker().getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
		for (int i = 0; i < 2; i++) {
			Exchange next = lb.begin();
			next.answered(attempt(next, "a"), 200, NO_HEADERS, null);
		}
		assertThat(a.state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void aSuccessDoesNotClearAFresherCoolDownSetByAnotherRequest() {
		LoadBalancer lb = balancer(config(backend("a")));
		Backend a = lb.backend("a");
		Exchange slow = lb.begin();
		Exchange throttled = lb.begin();
		Step.Attempt slowAttempt = attempt(slow, "a");
		Step.Attempt throttledAttempt = attempt(throttled, "a");
		throttled.answered(throttledAttempt, 429, headers("retry-after", "30"), null);
		Instant until = a.coolingDownUntil();
		this.clock.advance(Duration.ofSeconds(1));
		assertThat(slow.answered(slowAttempt, 200, NO_HEADERS, null)).isEqualTo(Outcome.SUCCESS);
		assertThat(a.coolingDownUntil()).isEqualTo(until);
		assertThat(a.state()).isEqualTo(BackendState.COOLING_DOWN);
		assertThat(giveUp(lb.begin()).retryAfterSeconds()).isEqualTo(29);
	}

	@Test
	void aSuccessAfterAnEndedCoolDownClearsIt() {
		Backend a = balancer(config(backend("a"))).backend("a");
		a.coolDown(this.clock.millis() + 1000);
		assertThat(a.clearImpairment(this.clock.millis())).isFalse();
		this.clock.advance(Duration.ofSeconds(1));
		assertThat(a.clearImpairment(this.clock.millis())).isTrue();
		assertThat(a.clearImpairment(this.clock.millis())).isFalse();
	}

	// failures

	@ParameterizedTest
	@ValueSource(ints = { 500, 502, 503, 504, 408 })
	void failureIsRecordedAndTheRequestFailsOverWithoutCoolDown(int status) {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Backend a = lb.backend("a");
		Exchange exchange = lb.begin();
		assertThat(exchange.answered(attempt(exchange, "a"), status, headers("x-ratelimit-reset-requests", "30s"),
				"Please retry after 30 seconds."))
			.isEqualTo(Outcome.FAILURE);
		assertThat(a.breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
		assertThat(a.coolingDownUntil()).isNull();
		assertThat(a.state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(a.counts().failures()).isEqualTo(1);
		exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		assertThat(this.listener.events).doesNotContain("coolDownStarted a");
		Exchange next = lb.begin();
		attempt(next, "a");
	}

	@ParameterizedTest
	@ValueSource(strings = { "retry-after", "retry-after-ms" })
	void failureWithAnExplicitHintCoolsDown(String header) {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Exchange exchange = lb.begin();
		String value = header.equals("retry-after") ? "4" : "4000";
		exchange.answered(attempt(exchange, "a"), 503, headers(header, value), null);
		assertThat(lb.backend("a").coolingDownUntil()).isEqualTo(this.clock.instant().plusSeconds(4));
		assertThat(lb.backend("a").breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
		attempt(exchange, "b");
		assertThat(this.listener.events).contains("coolDownStarted a PT4S");
	}

	@Test
	void ioFailureIsRecordedAndTheRequestFailsOver() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Backend a = lb.backend("a");
		Exchange exchange = lb.begin();
		exchange.failed(attempt(exchange, "a"), new SocketTimeoutException("Read timed out"));
		assertThat(a.breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
		assertThat(a.counts().failures()).isEqualTo(1);
		assertThat(a.coolingDownUntil()).isNull();
		attempt(exchange, "b");
	}

	// misconfigured backends

	@ParameterizedTest
	@ValueSource(ints = { 401, 403, 404 })
	void misconfiguredBackendIsMarkedAndTheRequestFailsOver(int status) {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Backend a = lb.backend("a");
		Exchange exchange = lb.begin();
		assertThat(exchange.answered(attempt(exchange, "a"), status, NO_HEADERS, null)).isEqualTo(Outcome.MISCONFIGURED);
		assertThat(a.state()).isEqualTo(BackendState.MISCONFIGURED);
		assertThat(a.misconfiguration()).isEqualTo("answered " + status);
		assertThat(a.coolingDownUntil()).isNull();
		assertThat(a.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
		assertThat(a.counts().misconfigured()).isEqualTo(1);
		exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		Exchange later = lb.begin();
		later.answered(attempt(later, "a"), 200, NO_HEADERS, null);
		assertThat(a.state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(a.misconfiguration()).isNull();
	}

	@Test
	void credentialFailureIsLikeA401() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Backend a = lb.backend("a");
		Exchange exchange = lb.begin();
		exchange.credentialFailed(attempt(exchange, "a"), "no token for backend 'a'");
		assertThat(a.state()).isEqualTo(BackendState.MISCONFIGURED);
		assertThat(a.misconfiguration()).isEqualTo("no token for backend 'a'");
		assertThat(a.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
		attempt(exchange, "b");
		assertThat(this.listener.events).contains("attemptEnded a MISCONFIGURED", "failedOver a MISCONFIGURED");
	}

	// client errors

	@ParameterizedTest
	@ValueSource(ints = { 400, 413, 422 })
	void clientErrorIsTheAnswer(int status) {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Backend a = lb.backend("a");
		Exchange exchange = lb.begin();
		assertThat(exchange.answered(attempt(exchange, "a"), status, NO_HEADERS, "{\"error\":{}}"))
			.isEqualTo(Outcome.CLIENT_ERROR);
		assertThat(a.state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(a.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
		assertThat(a.counts().clientErrors()).isEqualTo(1);
		assertThat(lb.backend("b").counts().attempts()).isZero();
		assertThat(this.listener.events).containsExactly("attemptEnded a CLIENT_ERROR", "requestEnded 1 ANSWERED");
	}

	// giving up

	@Test
	void allThrottledGivesUpWithTheSoonestWholeSecondsRoundedUp() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after-ms", "2500"), null);
		exchange.answered(attempt(exchange, "b"), 429, headers("retry-after-ms", "1200"), null);
		Step.GiveUp giveUp = giveUp(exchange);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.THROTTLED);
		assertThat(giveUp.retryAfterSeconds()).isEqualTo(2);
		assertThat(giveUp.reason()).contains("a: HTTP 429").contains("b: HTTP 429");
	}

	@Test
	void retryAfterIsAtLeastOneSecond() {
		LoadBalancer lb = balancer(config(backend("a")));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after-ms", "20"), null);
		assertThat(giveUp(exchange).retryAfterSeconds()).isEqualTo(1);
	}

	@Test
	void retryAfterOfARequestThatFindsEverythingCoolingDown() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b")));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange), 429, headers("retry-after", "10"), null);
		exchange.answered(attempt(exchange), 429, headers("retry-after", "20"), null);
		this.clock.advance(Duration.ofMillis(3001));
		Exchange later = lb.begin();
		Step.GiveUp giveUp = giveUp(later);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.THROTTLED);
		assertThat(giveUp.retryAfterSeconds()).isEqualTo(7);
		assertThat(giveUp.reason()).isEqualTo("no backend is available (a: COOLING_DOWN, b: COOLING_DOWN)");
		assertThat(later.attempts()).isZero();
	}

	@Test
	void lastAnswerWhenEveryBackendFailed() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
		exchange.answered(attempt(exchange, "b"), 503, NO_HEADERS, null);
		Step.GiveUp giveUp = giveUp(exchange);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.LAST_ANSWER);
		assertThat(giveUp.reason()).isEqualTo("a: HTTP 500, b: HTTP 503");
	}

	@Test
	void lastAnswerWhenEveryBackendIsMisconfigured() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 401, NO_HEADERS, null);
		exchange.answered(attempt(exchange, "b"), 404, NO_HEADERS, null);
		assertThat(giveUp(exchange).ending()).isEqualTo(Step.Ending.LAST_ANSWER);
	}

	@Test
	void lastAnswerWhenTheLastRealAnswerWasNotA429() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2), backend("c").priority(3)));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, NO_HEADERS, null);
		exchange.answered(attempt(exchange, "b"), 500, NO_HEADERS, null);
		exchange.failed(attempt(exchange, "c"), new ConnectException("Connection refused"));
		assertThat(giveUp(exchange).ending()).isEqualTo(Step.Ending.LAST_ANSWER);
	}

	@Test
	void throttledWhenTheLastRealAnswerWasA429() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
		exchange.answered(attempt(exchange, "b"), 429, headers("retry-after", "3"), null);
		Step.GiveUp giveUp = giveUp(exchange);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.THROTTLED);
		assertThat(giveUp.retryAfterSeconds()).isEqualTo(3);
	}

	@Test
	void failedWhenNoBackendAnsweredAtAll() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Exchange exchange = lb.begin();
		exchange.failed(attempt(exchange, "a"), new ConnectException("Connection refused"));
		exchange.failed(attempt(exchange, "b"),
				new IOException(new SocketTimeoutException("connect to https://b.example.com/x?sig=QUERYSECRET timed out")));
		Step.GiveUp giveUp = giveUp(exchange);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.FAILED);
		assertThat(giveUp.reason()).contains("a: ConnectException (Connection refused)")
			.contains("b: IOException (java.net.SocketTimeoutException: connect to https://b.example.com/x")
			.doesNotContain("QUERYSECRET");
		assertThat(new NoBackendAnsweredException(giveUp.reason()).getMessage()).contains("a: ", "b: ");
	}

	@Test
	void throttledBodyIsOpenAiShapedJson() throws Exception {
		LoadBalancer lb = balancer(config(backend("a")));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after", "3"), null);
		Step.GiveUp giveUp = giveUp(exchange);
		JsonNode error = new ObjectMapper().readTree(giveUp.throttledBody()).get("error");
		assertThat(error.get("message").asText()).contains("a: HTTP 429").endsWith("Please retry after 3 seconds.");
		assertThat(error.get("type").asText()).isEqualTo("rate_limit_exceeded");
		assertThat(error.get("code").asText()).isEqualTo("429");
		assertThat(error.has("param")).isTrue();
	}

	@Test
	void throttledBodyStaysValidJsonWhateverTheReason() throws Exception {
		Step.GiveUp giveUp = new Step.GiveUp(Step.Ending.THROTTLED, 4,
				"a: IOException (\"quoted\" \\ back\\slash\nnew line\ttab \u0001 ünïcødé </script>)");
		byte[] body = giveUp.throttledBody();
		JsonNode error = new ObjectMapper().readTree(new String(body, StandardCharsets.UTF_8)).get("error");
		assertThat(error.get("message").asText()).contains("\"quoted\"", "\\ back\\slash", "ünïcødé")
			.endsWith("Please retry after 4 seconds.");
	}

	// max-wait

	@Test
	void waitsForTheSoonestBackendWithinMaxWaitThenTriesItAgain() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a"))
			.backend(backend("b").priority(2))
			.maxWait(Duration.ofSeconds(10))
			.build());
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after-ms", "2500"), null);
		exchange.answered(attempt(exchange, "b"), 429, headers("retry-after-ms", "4000"), null);
		assertThat(waitStep(exchange).delay()).isEqualTo(Duration.ofMillis(2500));
		this.clock.advance(Duration.ofMillis(2500));
		Step.Attempt again = attempt(exchange, "a");
		assertThat(again.number()).isEqualTo(3);
		assertThat(exchange.answered(again, 200, NO_HEADERS, null)).isEqualTo(Outcome.SUCCESS);
		assertThat(this.listener.events).last().isEqualTo("requestEnded 3 ANSWERED");
	}

	@Test
	void waitsForAnOpenBreakerWithinMaxWait() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).maxWait(Duration.ofMinutes(1)).build());
		for (int i = 0; i < 10; i++) {
			Exchange failing = lb.begin();
			failing.answered(attempt(failing, "a"), 500, NO_HEADERS, null);
			failing.abandoned(null);
		}
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
		Exchange exchange = lb.begin();
		Step step = exchange.next();
		long waited = 0;
		while (step instanceof Step.Wait wait) {
			waited += wait.delay().toMillis();
			this.clock.advance(wait.delay());
			step = exchange.next();
		}
		assertThat(step).isInstanceOf(Step.Attempt.class);
		assertThat(((Step.Attempt) step).backend().name()).isEqualTo("a");
		// the default breaker stays open for 30 s; Resilience4j lets the probe through just after
		assertThat(waited).isBetween(30_000L, 30_001L);
	}

	@Test
	void maxWaitZeroGivesUpAtOnce() {
		LoadBalancer lb = balancer(config(backend("a")));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after-ms", "1"), null);
		Step.GiveUp giveUp = giveUp(exchange);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.THROTTLED);
	}

	@Test
	void givesUpWhenTheSoonestBackendIsFreeOnlyAfterMaxWait() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).maxWait(Duration.ofSeconds(2)).build());
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after-ms", "2001"), null);
		Step.GiveUp giveUp = giveUp(exchange);
		assertThat(giveUp.ending()).isEqualTo(Step.Ending.THROTTLED);
		assertThat(giveUp.retryAfterSeconds()).isEqualTo(3);
	}

	@Test
	void waitsExactlyMaxWait() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).maxWait(Duration.ofSeconds(2)).build());
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after-ms", "2000"), null);
		assertThat(waitStep(exchange).delay()).isEqualTo(Duration.ofSeconds(2));
		this.clock.advance(Duration.ofSeconds(2));
		exchange.answered(attempt(exchange, "a"), 200, NO_HEADERS, null);
	}

	@Test
	void cumulativeWaitsNeverExceedMaxWait() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).maxWait(Duration.ofSeconds(5)).build());
		Exchange exchange = lb.begin();
		long waited = 0;
		Step step;
		while (!((step = exchange.next()) instanceof Step.GiveUp)) {
			if (step instanceof Step.Wait wait) {
				waited += wait.delay().toMillis();
				this.clock.advance(wait.delay());
			}
			else {
				exchange.answered((Step.Attempt) step, 429, headers("retry-after", "2"), null);
			}
		}
		assertThat(waited).isEqualTo(4000);
		assertThat(exchange.attempts()).isEqualTo(3);
		assertThat(((Step.GiveUp) step).ending()).isEqualTo(Step.Ending.THROTTLED);
		assertThat(((Step.GiveUp) step).retryAfterSeconds()).isEqualTo(2);
	}

	@Test
	void aBackendThatFailedIsNotTriedAgainAfterAWait() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a"))
			.backend(backend("b").priority(2))
			.maxWait(Duration.ofSeconds(5))
			.build());
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
		exchange.answered(attempt(exchange, "b"), 429, headers("retry-after", "1"), null);
		this.clock.advance(waitStep(exchange).delay());
		exchange.answered(attempt(exchange, "b"), 500, NO_HEADERS, null);
		assertThat(giveUp(exchange).ending()).isEqualTo(Step.Ending.LAST_ANSWER);
		assertThat(lb.backend("a").counts().attempts()).isEqualTo(1);
	}

	// abandoning and listening

	@Test
	void abandonedReleasesTheBreakerPermissionAndEndsTheRequestOnce() {
		LoadBalancer lb = balancer(config(backend("a")));
		Backend a = lb.backend("a");
		a.breaker().transitionToOpenState();
		a.breaker().transitionToHalfOpenState();
		Exchange exchange = lb.begin();
		Step.Attempt attempt = attempt(exchange, "a");
		exchange.abandoned(attempt);
		exchange.abandoned(attempt);
		exchange.abandoned(null);
		// all three half-open permissions are free again
		for (int i = 0; i < 3; i++) {
			assertThat(a.breaker().tryAcquirePermission()).isTrue();
		}
		assertThat(a.breaker().tryAcquirePermission()).isFalse();
		assertThat(a.counts().attempts()).isZero();
		assertThat(this.listener.events).containsExactly("requestEnded 1 CANCELLED");
	}

	@Test
	void abandonedAfterTheEndChangesNothing() {
		LoadBalancer lb = balancer(config(backend("a")));
		Backend a = lb.backend("a");
		a.breaker().transitionToOpenState();
		a.breaker().transitionToHalfOpenState();
		Exchange exchange = lb.begin();
		Step.Attempt attempt = attempt(exchange, "a");
		exchange.answered(attempt, 200, NO_HEADERS, null);
		// e.g. the caller cancels while reading the body of the answer
		exchange.abandoned(attempt);
		assertThat(this.listener.events).containsExactly("attemptEnded a SUCCESS", "requestEnded 1 ANSWERED");
		// the reported attempt's permission is not handed out a second time
		assertThat(a.breaker().tryAcquirePermission()).isTrue();
		assertThat(a.breaker().tryAcquirePermission()).isTrue();
		assertThat(a.breaker().tryAcquirePermission()).isFalse();
	}

	@Test
	void abandonedAfterAFailoverReportReleasesNothing() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Backend a = lb.backend("a");
		a.breaker().transitionToOpenState();
		a.breaker().transitionToHalfOpenState();
		Exchange exchange = lb.begin();
		Step.Attempt attempt = attempt(exchange, "a");
		exchange.answered(attempt, 401, NO_HEADERS, null);
		exchange.abandoned(attempt);
		assertThat(this.listener.events).last().isEqualTo("requestEnded 1 CANCELLED");
		for (int i = 0; i < 3; i++) {
			assertThat(a.breaker().tryAcquirePermission()).isTrue();
		}
		assertThat(a.breaker().tryAcquirePermission()).isFalse();
	}

	@Test
	void listenerHearsEveryEvent() {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2), backend("c").priority(3)));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after", "7"), null);
		exchange.failed(attempt(exchange, "b"), new ConnectException("Connection refused"));
		exchange.answered(attempt(exchange, "c"), 200, NO_HEADERS, null);
		assertThat(this.listener.events).containsExactlyInAnyOrder("coolDownStarted a PT7S", "attemptEnded a THROTTLED",
				"failedOver a THROTTLED", "attemptEnded b FAILURE", "failedOver b FAILURE", "attemptEnded c SUCCESS",
				"requestEnded 3 ANSWERED");
		assertThat(this.listener.events).last().isEqualTo("requestEnded 3 ANSWERED");
		assertThat(this.listener.events.indexOf("attemptEnded a THROTTLED"))
			.isLessThan(this.listener.events.indexOf("attemptEnded b FAILURE"));
		assertThat(this.listener.nanos).hasSize(3).allSatisfy((nanos) -> assertThat(nanos).isNotNegative());
	}

	@Test
	void listenerHearsTheEndOfAGiveUp() {
		LoadBalancer lb = balancer(config(backend("a")));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after", "2"), null);
		giveUp(exchange);
		exchange.abandoned(null);
		assertThat(this.listener.events).filteredOn((event) -> event.startsWith("requestEnded"))
			.containsExactly("requestEnded 1 THROTTLED");
	}

	@Test
	void streamBrokeRecordsAFailureWithoutEndingTwice() {
		LoadBalancer lb = balancer(config(backend("a")));
		Exchange exchange = lb.begin();
		Step.Attempt attempt = attempt(exchange, "a");
		exchange.answered(attempt, 200, NO_HEADERS, null);
		exchange.streamBroke(attempt, new IOException("Connection reset by peer"));
		assertThat(lb.backend("a").breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
		assertThat(this.listener.events).filteredOn((event) -> event.startsWith("requestEnded")).hasSize(1);
	}

	@Test
	void startedIsTheClockTimeOfBegin() {
		LoadBalancer lb = balancer(config(backend("a")));
		long now = this.clock.millis();
		Exchange exchange = lb.begin();
		this.clock.advance(Duration.ofSeconds(1));
		assertThat(exchange.started()).isEqualTo(now);
		assertThat(exchange.attempts()).isZero();
	}

	private void assertCoolDown(java.util.function.Function<String, String> headers, String body, Duration expected) {
		LoadBalancer lb = balancer(config(backend("a"), backend("b").priority(2)));
		Exchange exchange = lb.begin();
		Instant now = this.clock.instant();
		exchange.answered(attempt(exchange, "a"), 429, headers, body);
		assertThat(lb.backend("a").coolingDownUntil()).isEqualTo(now.plus(expected));
		assertThat(this.listener.events).contains("coolDownStarted a " + expected);
	}

	private LoadBalancer balancer(BalancerConfig config) {
		return LoadBalancer.builder(config).clock(this.clock).random(new Random(42)).listener(this.listener).build();
	}

	private static BalancerConfig config(BalancerConfig.BackendBuilder... backends) {
		BalancerConfig.Builder builder = BalancerConfig.builder();
		for (BalancerConfig.BackendBuilder backend : backends) {
			builder.backend(backend);
		}
		return builder.build();
	}

}
