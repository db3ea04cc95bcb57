package io.github.openailb.core;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;

import io.github.openailb.testsupport.MutableClock;
import org.junit.jupiter.api.Test;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static io.github.openailb.core.EngineFixtures.headers;
import static io.github.openailb.core.EngineFixtures.waitStep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for the routing of requests tied to server-side state: one home backend, no failover,
 * a clear end when the home backend cannot take them.
 */
class StatefulRoutingTests {

	private static final byte[] NO_BODY = new byte[0];

	private static final String FILE = "/openai/files/file-1?api-version=2024-10-21";

	private final MutableClock clock = new MutableClock();

	private final EngineFixtures.RecordingListener listener = new EngineFixtures.RecordingListener();

	@Test
	void defaultHomeIsTheFirstEnabledBackendOfTheHighestPriority() {
		assertThat(home(BalancerConfig.builder().backend(backend("a")).backend(backend("b")))).isEqualTo("a");
		assertThat(home(BalancerConfig.builder().backend(backend("a").priority(2)).backend(backend("b")))).isEqualTo("b");
		assertThat(home(BalancerConfig.builder()
			.backend(backend("a").enabled(false))
			.backend(backend("b").priority(3))
			.backend(backend("c").priority(2))
			.backend(backend("d").priority(2)))).isEqualTo("c");
		assertThat(home(BalancerConfig.builder().backend(backend("a").enabled(false).priority(2))
			.backend(backend("b").enabled(false)))).isEqualTo("b");
		assertThat(home(BalancerConfig.builder().backend(backend("a")).backend(backend("b")).stateful(StatefulMode.HOME,
				" b "))).isEqualTo("b");
	}

	@Test
	void unknownHomeNamesThePropertyAndTheBackends() {
		assertThatExceptionOfType(InvalidConfigurationException.class)
			.isThrownBy(() -> BalancerConfig.builder()
				.backend(backend("east"))
				.backend(backend("west"))
				.stateful(StatefulMode.HOME, "north")
				.build())
			.satisfies((ex) -> {
				assertThat(ex.getMessage()).contains("openai.lb.stateful.backend").contains("'north'");
				assertThat(ex.getMessage() + ((InvalidConfigurationException) ex).getAction()).contains("east, west");
			});
	}

	@Test
	void statefulRequestsAllGoHomeWhileOthersAreBalanced() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).backend(backend("b").weight(50)));
		int home = 0;
		int spread = 0;
		for (int i = 0; i < 100; i++) {
			Exchange stateful = lb.begin("GET", FILE, NO_BODY);
			home += attempt(stateful).backend().name().equals("a") ? 1 : 0;
			Exchange chat = lb.begin("POST", "/openai/v1/chat/completions", "{}".getBytes(StandardCharsets.UTF_8));
			spread += attempt(chat).backend().name().equals("b") ? 1 : 0;
		}
		assertThat(home).isEqualTo(100);
		assertThat(spread).isGreaterThan(50);
	}

	@Test
	void balancedModeBalancesStatefulRequestsToo() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a"))
			.backend(backend("b").weight(50))
			.stateful(StatefulMode.BALANCED, null));
		assertThat(lb.statefulHome()).isNull();
		int spread = 0;
		for (int i = 0; i < 100; i++) {
			spread += attempt(lb.begin("GET", FILE, NO_BODY)).backend().name().equals("b") ? 1 : 0;
		}
		assertThat(spread).isGreaterThan(50);
	}

	@Test
	void throttledHomeEndsTheRequestWithoutTryingAnotherBackend() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).backend(backend("b")));
		Exchange exchange = lb.begin("POST", "/openai/batches", NO_BODY);
		Step.Attempt first = attempt(exchange, "a");
		assertThat(exchange.answered(first, 429, headers("retry-after", "7"), null)).isEqualTo(Outcome.THROTTLED);
		Step.GiveUp end = giveUp(exchange);
		assertThat(end.ending()).isEqualTo(Step.Ending.STATEFUL_UNAVAILABLE);
		assertThat(end.retryAfterSeconds()).isEqualTo(7);
		assertThat(end.reason()).contains("'a'").contains("HTTP 429");
		assertThat(new String(end.statefulUnavailableBody(), StandardCharsets.UTF_8))
			.contains("\"code\":\"stateful_backend_unavailable\"")
			.contains("retry after 7 seconds");
		assertThat(lb.backend("b").counts().attempts()).isZero();
		assertThat(this.listener.events).containsExactly("coolDownStarted a PT7S", "attemptEnded a THROTTLED",
				"requestEnded 1 STATEFUL_UNAVAILABLE");

		// the next one is refused at once, naming the state of the home backend
		Step.GiveUp next = giveUp(lb.begin("GET", FILE, NO_BODY));
		assertThat(next.ending()).isEqualTo(Step.Ending.STATEFUL_UNAVAILABLE);
		assertThat(next.retryAfterSeconds()).isEqualTo(7);
		assertThat(next.reason()).contains("a: COOLING_DOWN");
	}

	@Test
	void homeThatIsFreeWithinMaxWaitIsWaitedForAndTriedAgain() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a"))
			.backend(backend("b"))
			.maxWait(Duration.ofSeconds(10)));
		Exchange exchange = lb.begin("GET", FILE, NO_BODY);
		exchange.answered(attempt(exchange, "a"), 429, headers("retry-after", "2"), null);
		assertThat(waitStep(exchange).delay()).isEqualTo(Duration.ofSeconds(2));
		this.clock.advance(Duration.ofSeconds(2));
		Step.Attempt again = attempt(exchange, "a");
		assertThat(again.number()).isEqualTo(2);
		assertThat(exchange.answered(again, 200, NO_HEADERS, null)).isEqualTo(Outcome.SUCCESS);
		assertThat(lb.backend("b").counts().attempts()).isZero();
	}

	@Test
	void homeThatFailsGivesItsOwnAnswerOrAClearEndButNeverFailsOver() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).backend(backend("b")));
		Exchange answered = lb.begin("GET", FILE, NO_BODY);
		answered.answered(attempt(answered, "a"), 500, NO_HEADERS, "{}");
		assertThat(giveUp(answered).ending()).isEqualTo(Step.Ending.LAST_ANSWER);

		Exchange unanswered = lb.begin("GET", FILE, NO_BODY);
		unanswered.failed(attempt(unanswered, "a"), new java.net.ConnectException("Connection refused"));
		Step.GiveUp end = giveUp(unanswered);
		assertThat(end.ending()).isEqualTo(Step.Ending.STATEFUL_UNAVAILABLE);
		assertThat(end.retryAfterSeconds()).isZero();
		assertThat(end.reason()).contains("a: ConnectException");
		assertThat(lb.backend("b").counts().attempts()).isZero();
	}

	@Test
	void disabledHomeRefusesStatefulRequestsAtOnce() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a").enabled(false))
			.backend(backend("b"))
			.stateful(StatefulMode.HOME, "a"));
		Step.GiveUp end = giveUp(lb.begin("GET", FILE, NO_BODY));
		assertThat(end.ending()).isEqualTo(Step.Ending.STATEFUL_UNAVAILABLE);
		assertThat(end.reason()).contains("a: DISABLED");
		assertThat(end.retryAfterSeconds()).isZero();
		assertThat(attempt(lb.begin("POST", "/v1/embeddings", NO_BODY)).backend().name()).isEqualTo("b");
	}

	@Test
	void notFoundAtHomeIsTheCallersAnswerNotAMisconfiguration() {
		LoadBalancer lb = balancer(BalancerConfig.builder().backend(backend("a")).backend(backend("b")));
		Exchange exchange = lb.begin("GET", FILE, NO_BODY);
		assertThat(exchange.outcomeOf(404)).isEqualTo(Outcome.CLIENT_ERROR);
		assertThat(exchange.answered(attempt(exchange, "a"), 404, NO_HEADERS, null)).isEqualTo(Outcome.CLIENT_ERROR);
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(this.listener.events).endsWith("requestEnded 1 ANSWERED");
		// a stateless request still takes a 404 for a wrong deployment
		assertThat(lb.begin("POST", "/v1/chat/completions", NO_BODY).outcomeOf(404)).isEqualTo(Outcome.MISCONFIGURED);
	}

	private String home(BalancerConfig.Builder builder) {
		return balancer(builder).statefulHome().name();
	}

	private LoadBalancer balancer(BalancerConfig.Builder config) {
		return LoadBalancer.builder(config.build()).clock(this.clock).random(new Random(42)).listener(this.listener).build();
	}

}
