package io.github.openailb.core;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.openailb.testsupport.MutableClock;
import org.junit.jupiter.api.Test;

import static io.github.openailb.core.EngineFixtures.NO_HEADERS;
import static io.github.openailb.core.EngineFixtures.attempt;
import static io.github.openailb.core.EngineFixtures.backend;
import static io.github.openailb.core.EngineFixtures.giveUp;
import static io.github.openailb.core.EngineFixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for deployment maps: which backend serves which model, under which name, and state kept
 * per backend and deployment (cool-downs, budgets, quota reports, the 404 mark) while the
 * instance's own trouble (5xx, breaker, credential) stays per backend.
 */
class DeploymentMapTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	private static final String EMB = "/openai/deployments/emb/embeddings?api-version=2024-10-21";

	private static final byte[] BODY = "{\"messages\":[]}".getBytes(StandardCharsets.UTF_8);

	private final MutableClock clock = new MutableClock();

	private final EngineFixtures.RecordingListener listener = new EngineFixtures.RecordingListener();

	private final RecordingSharedState shared = new RecordingSharedState();

	/** A maps gpt-4o → chat-a and emb → emb-a; B maps only gpt-4o → chat-b. */
	private LoadBalancer issueExample() {
		return balancer(BalancerConfig.builder()
			.backend(backend("a").deployments(map("gpt-4o", "chat-a", "emb", "emb-a")))
			.backend(backend("b").deployments(map("gpt-4o", "chat-b"))));
	}

	@Test
	void embeddingsOnlyEverReachTheBackendThatListsThem() {
		LoadBalancer lb = issueExample();
		for (int i = 0; i < 50; i++) {
			Exchange exchange = lb.begin("POST", EMB, BODY);
			Step.Attempt attempt = attempt(exchange, "a");
			assertThat(attempt.deploymentName()).isEqualTo("emb-a");
			assertThat(RequestTarget.uri(attempt, EMB).toString())
				.isEqualTo("https://a.example.com/openai/deployments/emb-a/embeddings?api-version=2024-10-21");
			exchange.answered(attempt, 200, NO_HEADERS, null);
		}
	}

	@Test
	void chatThrottledOnOneBackendGoesToTheOtherWhileEmbeddingsKeepTheirBackend() {
		LoadBalancer lb = issueExample();
		Exchange chat = lb.begin("POST", CHAT, BODY);
		Step.Attempt first = attempt(chat);
		if (first.backend().name().equals("b")) {
			// make A the one that answers 429: B serves this first request
			chat.answered(first, 200, NO_HEADERS, null);
			chat = lb.begin("POST", CHAT, BODY);
			first = attempt(chat);
			while (!first.backend().name().equals("a")) {
				chat.answered(first, 200, NO_HEADERS, null);
				chat = lb.begin("POST", CHAT, BODY);
				first = attempt(chat);
			}
		}
		assertThat(chat.answered(first, 429, headers("retry-after", "30"), null)).isEqualTo(Outcome.THROTTLED);
		Step.Attempt second = attempt(chat, "b");
		assertThat(RequestTarget.uri(second, CHAT).getPath()).isEqualTo("/openai/deployments/chat-b/chat/completions");
		chat.answered(second, 200, NO_HEADERS, null);

		Backend a = lb.backend("a");
		assertThat(a.state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(a.deployment("gpt-4o").state()).isEqualTo(BackendState.COOLING_DOWN);
		assertThat(a.deployment("emb").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(a.breaker().getState().name()).isEqualTo("CLOSED");
		for (int i = 0; i < 20; i++) {
			Exchange moreChat = lb.begin("POST", CHAT, BODY);
			moreChat.answered(attempt(moreChat, "b"), 200, NO_HEADERS, null);
			Exchange emb = lb.begin("POST", EMB, BODY);
			emb.answered(attempt(emb, "a"), 200, NO_HEADERS, null);
		}
		assertThat(this.shared.events).contains("coolingDown a gpt-4o +30000");
		assertThat(this.listener.events).contains("coolDownStarted a gpt-4o PT30S");
	}

	@Test
	void eachAttemptsUriFollowsItsPathAndDeploymentWhenTheyChangeOnOneBackend() {
		LoadBalancer lb = issueExample();
		String later = CHAT.replace("2024-10-21", "2025-01-01");
		for (String path : new String[] { CHAT, EMB, EMB, CHAT, later, later, EMB, CHAT }) {
			Exchange exchange = lb.begin("POST", path, BODY);
			Step.Attempt attempt = attempt(exchange);
			String model = path.equals(EMB) ? "/emb/" : "/gpt-4o/";
			assertThat(RequestTarget.uri(attempt, path).toString()).isEqualTo("https://" + attempt.backend().name()
					+ ".example.com" + path.replace(model, "/" + attempt.deploymentName() + "/"));
			exchange.answered(attempt, 200, NO_HEADERS, null);
		}
	}

	@Test
	void aModelNoBackendListsEndsAtOnceNamingIt() {
		LoadBalancer lb = issueExample();
		Exchange exchange = lb.begin("POST", "/openai/deployments/gpt-5/chat/completions", BODY);
		Step.GiveUp end = giveUp(exchange);
		assertThat(end.ending()).isEqualTo(Step.Ending.MODEL_NOT_SERVED);
		assertThat(end.reason()).contains("'gpt-5'").contains("gpt-4o, emb").contains("openai.lb.backends[*].deployments");
		assertThat(new String(end.modelNotServedBody(), StandardCharsets.UTF_8)).contains("DeploymentNotFound")
			.contains("'gpt-5'");
		assertThat(exchange.attempts()).isZero();
		assertThat(lb.backend("a").counts().attempts() + lb.backend("b").counts().attempts()).isZero();
		assertThat(this.listener.events).containsExactly("requestEnded 0 MODEL_NOT_SERVED");
	}

	@Test
	void theV1ApiIsRoutedByTheBodysModelAndRewrittenThere() {
		LoadBalancer lb = issueExample();
		byte[] body = "{\"input\":[\"x\"],\"options\":{\"model\":\"nested\"},\"model\":\"emb\"}"
			.getBytes(StandardCharsets.UTF_8);
		Exchange exchange = lb.begin("POST", "/openai/v1/embeddings", body);
		Step.Attempt attempt = attempt(exchange, "a");
		assertThat(new String(RequestTarget.body(attempt, "/openai/v1/embeddings", body), StandardCharsets.UTF_8))
			.contains("\"model\":\"emb-a\"")
			.contains("\"model\":\"nested\"");
		byte[] unknown = "{\"model\":\"gpt-5\"}".getBytes(StandardCharsets.UTF_8);
		assertThat(giveUp(lb.begin("POST", "/openai/v1/chat/completions", unknown)).ending())
			.isEqualTo(Step.Ending.MODEL_NOT_SERVED);
	}

	@Test
	void aRequestThatNamesNoModelGoesToAnyBackend() {
		LoadBalancer lb = issueExample();
		Exchange exchange = lb.begin("GET", "/openai/models?api-version=2024-10-21", new byte[0]);
		Step.Attempt attempt = attempt(exchange);
		assertThat(attempt.deployment()).isNull();
		assertThat(attempt.deploymentName()).isNull();
	}

	@Test
	void aBackendWithoutAMapServesEveryModelWithStatePerListedModel() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a").deployments(map("gpt-4o", "chat-a")))
			.backend(backend("open").priority(2)));
		Backend open = lb.backend("open");
		assertThat(open.deployments()).extracting(Deployment::model).containsExactly("gpt-4o");
		// a model nobody lists goes to the backend without a map, under the caller's name
		Exchange other = lb.begin("POST", "/openai/deployments/gpt-5/chat/completions", BODY);
		Step.Attempt attempt = attempt(other, "open");
		assertThat(attempt.deployment()).isNull();
		assertThat(attempt.deploymentName()).isNull();
		other.answered(attempt, 429, headers("retry-after", "10"), null);
		// that 429 concerned a model with no state of its own: the whole backend cools down
		assertThat(open.state()).isEqualTo(BackendState.COOLING_DOWN);
		this.clock.advance(Duration.ofSeconds(11));
		Exchange chat = lb.begin("POST", CHAT, BODY);
		Step.Attempt onA = attempt(chat, "a");
		chat.answered(onA, 429, headers("retry-after", "10"), null);
		Step.Attempt onOpen = attempt(chat, "open");
		assertThat(onOpen.deployment().model()).isEqualTo("gpt-4o");
		assertThat(onOpen.deploymentName()).isNull();
		assertThat(RequestTarget.uri(onOpen, CHAT).getPath()).isEqualTo("/openai/deployments/gpt-4o/chat/completions");
		chat.answered(onOpen, 429, headers("retry-after", "10"), null);
		assertThat(open.deployment("gpt-4o").state()).isEqualTo(BackendState.COOLING_DOWN);
		assertThat(open.state()).isNotEqualTo(BackendState.COOLING_DOWN);
		// the model nobody lists still goes to the backend without a map
		assertThat(attempt(lb.begin("POST", "/openai/deployments/gpt-5/chat/completions", BODY)).backend().name())
			.isEqualTo("open");
	}

	@Test
	void oneDeploymentForEveryRequestKeepsOneStatePerBackend() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a").deployments(map("gpt-4o", "chat-a")))
			.backend(backend("single").deployment("everything").priority(2)));
		assertThat(lb.backend("single").deployments()).isEmpty();
		Exchange chat = lb.begin("POST", CHAT, BODY);
		chat.answered(attempt(chat, "a"), 429, headers("retry-after", "10"), null);
		Step.Attempt attempt = attempt(chat, "single");
		assertThat(attempt.deployment()).isNull();
		assertThat(attempt.deploymentName()).isEqualTo("everything");
	}

	@Test
	void budgetsArePerDeployment() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a").deployments(map("gpt-4o", "chat-a", "emb", "emb-a"))
				.deploymentRpm(Map.of("gpt-4o", 2L)))
			.backend(backend("b").deployments(map("gpt-4o", "chat-b")).priority(2)));
		for (int i = 0; i < 2; i++) {
			Exchange chat = lb.begin("POST", CHAT, BODY);
			chat.answered(attempt(chat, "a"), 200, NO_HEADERS, null);
		}
		// the chat deployment's budget is spent: chat spills over, embeddings on A are not affected
		Exchange chat = lb.begin("POST", CHAT, BODY);
		chat.answered(attempt(chat, "b"), 200, NO_HEADERS, null);
		for (int i = 0; i < 5; i++) {
			Exchange emb = lb.begin("POST", EMB, BODY);
			emb.answered(attempt(emb, "a"), 200, NO_HEADERS, null);
		}
	}

	@Test
	void quotaReportsArePerDeployment() {
		LoadBalancer lb = issueExample();
		Exchange emb = lb.begin("POST", EMB, BODY);
		emb.answered(attempt(emb, "a"), 200,
				headers("x-ratelimit-remaining-tokens", "0", "x-ratelimit-remaining-requests", "0"), null);
		Backend a = lb.backend("a");
		assertThat(a.deployment("emb").headroom()).isNotNull();
		assertThat(a.deployment("gpt-4o").headroom()).isNull();
		assertThat(a.headroom()).isNull();
	}

	@Test
	void a404MarksOnlyThatDeploymentWhileA401MarksTheBackend() {
		LoadBalancer lb = issueExample();
		Backend a = lb.backend("a");
		Exchange emb = lb.begin("POST", EMB, BODY);
		assertThat(emb.answered(attempt(emb, "a"), 404, NO_HEADERS, "")).isEqualTo(Outcome.MISCONFIGURED);
		assertThat(a.deployment("emb").state()).isEqualTo(BackendState.MISCONFIGURED);
		assertThat(a.deployment("emb").notServed()).isEqualTo("answered 404");
		assertThat(a.state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(this.shared.events).contains("misconfigured a emb answered 404");
		// a success clears the mark it saw
		Exchange again = lb.begin("POST", EMB, BODY);
		again.answered(attempt(again, "a"), 200, NO_HEADERS, null);
		assertThat(a.deployment("emb").state()).isEqualTo(BackendState.AVAILABLE);
		Exchange chat = lb.begin("POST", EMB, BODY);
		chat.answered(attempt(chat, "a"), 401, NO_HEADERS, "");
		assertThat(a.state()).isEqualTo(BackendState.MISCONFIGURED);
		assertThat(a.deployment("emb").state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void serverErrorsStayWithTheBackend() {
		LoadBalancer lb = issueExample();
		Exchange emb = lb.begin("POST", EMB, BODY);
		emb.answered(attempt(emb, "a"), 503, headers("retry-after", "20"), "");
		Backend a = lb.backend("a");
		assertThat(a.state()).isEqualTo(BackendState.COOLING_DOWN);
		assertThat(a.deployment("emb").state()).isEqualTo(BackendState.AVAILABLE);
		// the whole instance rests: chat goes to B alone
		Exchange chat = lb.begin("POST", CHAT, BODY);
		attempt(chat, "b");
		assertThat(this.listener.events).contains("attemptEnded a emb FAILURE");
	}

	@Test
	void aThrottledDeploymentWaitsAndEndsInTheSynthetic429WithItsTime() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a").deployments(map("gpt-4o", "chat-a", "emb", "emb-a")))
			.backend(backend("b").deployments(map("gpt-4o", "chat-b")))
			.maxWait(Duration.ofSeconds(10)));
		Exchange emb = lb.begin("POST", EMB, BODY);
		emb.answered(attempt(emb, "a"), 429, headers("retry-after", "5"), null);
		Step next = emb.next();
		assertThat(next).isInstanceOf(Step.Wait.class);
		assertThat(((Step.Wait) next).delay()).isEqualTo(Duration.ofSeconds(5));
		this.clock.advance(Duration.ofSeconds(5));
		attempt(emb, "a");
		Exchange noWait = balancer(BalancerConfig.builder()
			.backend(backend("a").deployments(map("gpt-4o", "chat-a", "emb", "emb-a")))
			.maxWait(Duration.ZERO)).begin("POST", EMB, BODY);
		noWait.answered(attempt(noWait, "a"), 429, headers("retry-after", "7"), null);
		Step.GiveUp end = giveUp(noWait);
		assertThat(end.ending()).isEqualTo(Step.Ending.THROTTLED);
		assertThat(end.retryAfterSeconds()).isEqualTo(7);
	}

	@Test
	void remoteNewsReachesTheDeploymentWithinBounds() {
		LoadBalancer lb = issueExample();
		SharedState.Listener news = this.shared.listener;
		assertThat(news.models("a")).containsExactly("gpt-4o", "emb");
		assertThat(news.models("b")).containsExactly("gpt-4o");
		long now = this.clock.millis();
		news.coolingDown("a", "emb", now + 10_000);
		news.coolingDown("b", "emb", now + 10_000);
		news.coolingDown("a", "unknown", now + 10_000);
		news.coolingDown("a", "gpt-4o", now + Duration.ofDays(1).toMillis());
		news.misconfigured("b", "gpt-4o", "answered 404\n\u001b[31m");
		assertThat(lb.backend("a").deployment("emb").coolingDownUntil().toEpochMilli()).isEqualTo(now + 10_000);
		assertThat(lb.backend("a").deployment("gpt-4o").coolingDownUntil().toEpochMilli())
			.isEqualTo(now + lb.config().maxCoolDown().toMillis());
		assertThat(lb.backend("b").deployment("gpt-4o").notServed()).isEqualTo("answered 404  [31m");
		assertThat(lb.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
		// an operator's reset ends the deployments' trouble too
		lb.reset("a");
		assertThat(lb.backend("a").deployment("emb").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(lb.backend("a").deployment("gpt-4o").state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void modelNamesWithDotsAndColonsAreKeptWhole() {
		LoadBalancer lb = balancer(BalancerConfig.builder()
			.backend(backend("a").deployments(map("gpt-4.1", "gpt41-east", "ft:gpt-4o:acme", "ft-east"))));
		Exchange exchange = lb.begin("POST", "/openai/deployments/gpt-4.1/chat/completions", BODY);
		assertThat(attempt(exchange, "a").deploymentName()).isEqualTo("gpt41-east");
		byte[] v1 = "{\"model\":\"ft:gpt-4o:acme\"}".getBytes(StandardCharsets.UTF_8);
		assertThat(attempt(lb.begin("POST", "/v1/chat/completions", v1), "a").deploymentName()).isEqualTo("ft-east");
	}

	@Test
	void deploymentAndDeploymentsTogetherAreRefused() {
		assertThatExceptionOfType(InvalidConfigurationException.class)
			.isThrownBy(() -> BalancerConfig.builder()
				.backend(backend("a").deployment("chat-a").deployments(map("gpt-4o", "chat-a")))
				.build())
			.withMessageContaining("openai.lb.backends[0].deployments")
			.withMessageContaining("openai.lb.backends[0].deployment")
			.satisfies((ex) -> assertThat(ex.getAction()).contains("not both"));
	}

	@Test
	void budgetsForModelsNotListedAndBadNamesAreRefusedNamingTheProperty() {
		assertThatExceptionOfType(InvalidConfigurationException.class)
			.isThrownBy(() -> BalancerConfig.builder()
				.backend(backend("a").deployments(map("gpt-4o", "chat a", "bad/model", "x"))
					.deploymentTpm(Map.of("emb", 1000L))
					.deploymentRpm(Map.of("gpt-4o", -1L)))
				.build())
			.satisfies((ex) -> assertThat(ex.getMessage() + ex.getAction())
				.contains("openai.lb.backends[0].deployments.gpt-4o")
				.contains("'chat a' is not a valid deployment name")
				.contains("'bad/model' is not a valid model or deployment name")
				.contains("openai.lb.backends[0].deployment-tpm.emb: names a model not listed"));
		assertThatExceptionOfType(InvalidConfigurationException.class)
			.isThrownBy(() -> BalancerConfig.builder()
				.backend(backend("a").deployments(map("gpt-4o", "chat-a")).deploymentRpm(Map.of("gpt-4o", -1L)))
				.build())
			.withMessageContaining("openai.lb.backends[0].deployment-rpm.gpt-4o: must not be negative");
	}

	@Test
	void theModelIsReadFromThePathOrTheTopLevelOfTheBody() {
		assertThat(RequestTarget.model(CHAT, BODY)).isEqualTo("gpt-4o");
		assertThat(RequestTarget.model("/v1/chat/completions",
				"{\"messages\":[{\"model\":\"inner\"}],\"model\":\"gpt-4o\"}".getBytes(StandardCharsets.UTF_8)))
			.isEqualTo("gpt-4o");
		assertThat(RequestTarget.model("/v1/chat/completions", "{\"model\":42}".getBytes(StandardCharsets.UTF_8)))
			.isNull();
		assertThat(RequestTarget.model("/v1/chat/completions", "not json".getBytes(StandardCharsets.UTF_8))).isNull();
		assertThat(RequestTarget.model("/v1/chat/completions", "{\"model\":".getBytes(StandardCharsets.UTF_8)))
			.isNull();
		assertThat(RequestTarget.model("/v1/models?x=/openai/deployments/q/", new byte[0])).isNull();
	}

	private LoadBalancer balancer(BalancerConfig.Builder builder) {
		return LoadBalancer.builder(builder.build())
			.clock(this.clock)
			.listener(this.listener)
			.sharedState(this.shared)
			.random(new java.util.Random(7))
			.build();
	}

	private static Map<String, String> map(String... keysAndValues) {
		Map<String, String> map = new LinkedHashMap<>();
		for (int i = 0; i < keysAndValues.length; i += 2) {
			map.put(keysAndValues[i], keysAndValues[i + 1]);
		}
		return map;
	}

	/** Records what the engine publishes, with deadlines relative to the clock. */
	private final class RecordingSharedState implements SharedState {

		final List<String> events = Collections.synchronizedList(new ArrayList<>());

		SharedState.Listener listener;

		@Override
		public void start(Listener listener) {
			this.listener = listener;
		}

		@Override
		public void coolingDown(String backend, String model, long until, String reason) {
			this.events.add("coolingDown " + backend + " " + model + " +" + (until - DeploymentMapTests.this.clock.millis()));
		}

		@Override
		public void misconfigured(String backend, String model, String reason) {
			this.events.add("misconfigured " + backend + " " + model + " " + reason);
		}

	}

}
