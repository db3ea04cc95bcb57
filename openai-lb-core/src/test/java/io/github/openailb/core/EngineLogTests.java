package io.github.openailb.core;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static io.github.openailb.core.EngineFixtures.headers;
import static io.github.openailb.core.EngineFixtures.waitStep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine logs one INFO line per change of a backend's state (cool-down start and end, breaker
 * open and close, misconfiguration) and everything per attempt or per request at DEBUG, so a
 * failover on the hot path costs no INFO line of its own.
 */
class EngineLogTests {

	private final MutableClock clock = new MutableClock();

	private final EngineFixtures.RecordingListener listener = new EngineFixtures.RecordingListener();

	private final Logger engine = (Logger) LoggerFactory.getLogger(LoadBalancer.class);

	private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

	private Level level;

	@BeforeEach
	void capture() {
		this.level = this.engine.getLevel();
		this.engine.setLevel(Level.DEBUG);
		this.logged.start();
		this.engine.addAppender(this.logged);
	}

	@AfterEach
	void release() {
		this.engine.detachAppender(this.logged);
		this.engine.setLevel(this.level);
	}

	@Test
	void aFailoverOnAFailureLogsNothingAtInfo() {
		LoadBalancer lb = balancer(LoadBalancer.defaultBreakerConfig(this.clock), backend("a"), backend("b").priority(2));
		for (int i = 0; i < 5; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
			exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		}
		assertThat(info()).isEmpty();
		assertThat(debug()).contains("openai-lb: backend 'a' gave HTTP 500 on attempt 1",
				"openai-lb: failing over from backend 'a' to 'b'");
	}

	@Test
	void aCoolDownIsLoggedWhenItStartsAndWhenTheBackendAnswersAgain() {
		LoadBalancer lb = balancer(LoadBalancer.defaultBreakerConfig(this.clock), backend("a"), backend("b").priority(2));
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after", "3"), null);
		exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		// requests during the cool-down go to b without a word at INFO
		for (int i = 0; i < 5; i++) {
			Exchange during = lb.begin();
			during.answered(attempt(during, "b"), 200, NO_HEADERS, null);
		}
		assertThat(info()).containsExactly("openai-lb: backend 'a' answered 429; cooling down for 3000 ms");
		this.clock.advance(Duration.ofSeconds(3));
		for (int i = 0; i < 5; i++) {
			Exchange after = lb.begin();
			after.answered(attempt(after, "a"), 200, NO_HEADERS, null);
		}
		assertThat(info()).containsExactly("openai-lb: backend 'a' answered 429; cooling down for 3000 ms",
				"openai-lb: backend 'a' answers again");
	}

	@Test
	void requestsUnderWayThatAllGet429StartOneCoolDown() {
		LoadBalancer lb = balancer(LoadBalancer.defaultBreakerConfig(this.clock), backend("a"), backend("b").priority(2));
		Exchange[] exchanges = new Exchange[5];
		Step.Attempt[] attempts = new Step.Attempt[5];
		for (int i = 0; i < 5; i++) {
			exchanges[i] = lb.begin();
			attempts[i] = attempt(exchanges[i], "a");
		}
		for (int i = 0; i < 5; i++) {
			// each later hint moves the deadline; only the first starts a cool-down
			exchanges[i].answered(attempts[i], 429, headers("retry-after", Integer.toString(10 + i)), null);
			exchanges[i].answered(attempt(exchanges[i], "b"), 200, NO_HEADERS, null);
		}
		assertThat(info()).containsExactly("openai-lb: backend 'a' answered 429; cooling down for 10000 ms");
		assertThat(debug()).contains("openai-lb: backend 'a' answered 429; cool-down moved to 14000 ms from now");
	}

	@Test
	void aMisconfiguredBackendIsLoggedOnceNotOnEveryRequest() {
		LoadBalancer lb = balancer(LoadBalancer.defaultBreakerConfig(this.clock), backend("a"), backend("b").priority(2));
		for (int i = 0; i < 5; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 401, NO_HEADERS, null);
			exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		}
		assertThat(info()).singleElement().asString().contains("backend 'a' answered 401: marked misconfigured");
	}

	@Test
	void aBreakerOpeningAndClosingAreLoggedOnce() {
		CircuitBreakerConfig breakers = CircuitBreakerConfig.custom()
			.slidingWindowSize(2)
			.minimumNumberOfCalls(2)
			.permittedNumberOfCallsInHalfOpenState(2)
			.waitDurationInOpenState(Duration.ofSeconds(20))
			.clock(this.clock)
			.build();
		LoadBalancer lb = balancer(breakers, backend("a"), backend("b").priority(2));
		for (int i = 0; i < 2; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 500, NO_HEADERS, null);
			exchange.answered(attempt(exchange, "b"), 200, NO_HEADERS, null);
		}
		assertThat(info()).containsExactly(
				"openai-lb: circuit breaker of backend 'a' opened after failures; next probe in 20001 ms");
		this.clock.advance(Duration.ofMillis(20001));
		for (int i = 0; i < 4; i++) {
			Exchange exchange = lb.begin();
			exchange.answered(attempt(exchange, "a"), 200, NO_HEADERS, null);
		}
		assertThat(info()).containsExactly(
				"openai-lb: circuit breaker of backend 'a' opened after failures; next probe in 20001 ms",
				"openai-lb: backend 'a' answers again");
	}

	@Test
	void tryingTheSameBackendAgainAfterAWaitIsNotAFailover() {
		LoadBalancer lb = balancer(LoadBalancer.defaultBreakerConfig(this.clock),
				BalancerConfig.builder().backend(backend("a")).maxWait(Duration.ofSeconds(5)).build());
		Exchange exchange = lb.begin();
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after", "1"), null);
		this.clock.advance(waitStep(exchange).delay());
		exchange.answered(attempt(exchange, "a"), 200, NO_HEADERS, null);
		assertThat(this.listener.events).noneMatch((event) -> event.startsWith("failedOver"));
		assertThat(debug()).noneMatch((line) -> line.contains("failing over"));
	}

	private List<String> info() {
		return this.logged.list.stream()
			.filter((event) -> event.getLevel().isGreaterOrEqual(Level.INFO))
			.map(ILoggingEvent::getFormattedMessage)
			.toList();
	}

	private List<String> debug() {
		return this.logged.list.stream()
			.filter((event) -> event.getLevel() == Level.DEBUG)
			.map(ILoggingEvent::getFormattedMessage)
			.toList();
	}

	private LoadBalancer balancer(CircuitBreakerConfig breakers, BalancerConfig.BackendBuilder... backends) {
		BalancerConfig.Builder config = BalancerConfig.builder();
		for (BalancerConfig.BackendBuilder backend : backends) {
			config.backend(backend);
		}
		return balancer(breakers, config.build());
	}

	private LoadBalancer balancer(CircuitBreakerConfig breakers, BalancerConfig config) {
		return LoadBalancer.builder(config)
			.clock(this.clock)
			.random(new Random(42))
			.listener(this.listener)
			.circuitBreakers(CircuitBreakerRegistry.of(breakers)::circuitBreaker)
			.build();
	}

}
