package io.github.openailb.redis;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbRedisStateAutoConfiguration;
import io.github.openailb.core.Backend;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.Awaits;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.RedisServerProcess;
import io.github.openailb.transport.BalancingClientHttpConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Application instances sharing cool-downs through a real {@code redis-server}, each with its
 * own context, all calling the same loopback backends.
 */
@ExtendWith(OutputCaptureExtension.class)
class RedisSharedStateTests {

	private static final Duration BOUND = Duration.ofSeconds(30);

	/** A model name with a '.', kept whole in keys (RedisSharedStateBoundsTests has one with ':'). */
	private static final String EMBEDDINGS = "text-embedding.3";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private RedisServerProcess redis;

	private WireMockServer ptu;

	private WireMockServer paygo;

	private WireMockServer last;

	@BeforeEach
	void start() {
		this.redis = RedisServerProcess.start();
		this.ptu = this.backends.start();
		this.paygo = this.backends.start();
		this.last = this.backends.start();
		this.ptu.stubFor(post(anyUrl()).willReturn(okJson("\"ptu\"")));
		this.paygo.stubFor(post(anyUrl()).willReturn(okJson("\"paygo\"")));
		this.last.stubFor(post(anyUrl()).willReturn(okJson("\"last\"")));
	}

	@AfterEach
	void stop() {
		if (this.redis != null) {
			this.redis.stop();
		}
	}

	@Test
	void a429SeenByOneInstanceKeepsTheOthersOffThatBackendForTheHintedTime() {
		throttleOnce(this.ptu, "Retry-After", "60");
		instance("shared").run((one) -> instance("shared").run((two) -> instance("other").run((other) -> {
			awaitSubscribers("shared", 2);
			awaitSubscribers("other", 1);
			assertThat(call(one)).isEqualTo("paygo");
			Instant until = balancer(one).backend("ptu").coolingDownUntil();
			assertThat(until).isNotNull();
			Awaits.until(BOUND, () -> sameCoolDown(until, balancer(two).backend("ptu")),
					"the other instance learns the cool-down");
			for (int i = 0; i < 5; i++) {
				assertThat(call(two)).isEqualTo("paygo");
			}
			assertThat(this.ptu.getAllServeEvents()).hasSize(1);
			assertThat(this.redis.command("PTTL shared:cooldown:ptu")).matches(":\\d+\\n(?s).*");
			// a late joiner reads the running cool-down through
			instance("shared").run((late) -> Awaits.until(BOUND,
					() -> sameCoolDown(until, balancer(late).backend("ptu")),
					"a late instance reads the cool-down from Redis"));
			// another namespace shares nothing, neither by message nor by read-through
			assertThat(balancer(other).backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
			instance("other").run((lateOther) -> {
				assertThat(call(lateOther)).isEqualTo("ptu");
				assertThat(balancer(lateOther).backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
			});
		})));
	}

	@Test
	void expiryFreesTheBackendForEveryInstance() {
		throttleOnce(this.ptu, "retry-after-ms", "1000");
		instance("shared").run((one) -> instance("shared").run((two) -> {
			awaitSubscribers("shared", 2);
			assertThat(call(one)).isEqualTo("paygo");
			Instant until = balancer(one).backend("ptu").coolingDownUntil();
			assertThat(until).isNotNull();
			Awaits.until(BOUND, () -> sameCoolDown(until, balancer(two).backend("ptu")),
					"the other instance learns the cool-down");
			Awaits.until(BOUND, () -> "ptu".equals(call(two)), "the backend is free again for the other instance");
			Awaits.until(BOUND, () -> "ptu".equals(call(one)), "the backend is free again for the first instance");
			Awaits.until(BOUND, () -> this.redis.command("EXISTS shared:cooldown:ptu").startsWith(":0"),
					"the key expires in Redis");
		}));
	}

	@Test
	void aTimeoutSeenByOneInstanceKeepsTheOthersOffThatBackendForTheTimeoutCoolDown() {
		// a cold JVM's first exchanges may outlast the short timeout below: warm up first
		instance("warm").run((warm) -> assertThat(call(warm)).isEqualTo("ptu"));
		instance("shared").withPropertyValues("openai.lb.response-timeout=1s", "openai.lb.timeout-cool-down=1m")
			.run((one) -> instance("shared").run((two) -> {
				awaitSubscribers("shared", 2);
				this.ptu.stubFor(post(anyUrl()).willReturn(okJson("\"ptu\"").withFixedDelay(5_000)));
				assertThat(call(one)).isEqualTo("paygo");
				assertThat(balancer(one).backend("ptu").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
				Awaits.until(BOUND, () -> balancer(two).backend("ptu").state() == BackendState.CIRCUIT_OPEN,
						"the other instance learns the timeout");
				assertThat(balancer(two).backend("ptu").circuitOpenUntil()).isNotNull();
				assertThat(call(two)).isEqualTo("paygo");
				assertThat(balancer(two).backend("ptu").counts().attempts()).isZero();
				assertThat(this.redis.command("PTTL shared:circuit-open:ptu")).matches(":\\d+\\n(?s).*");
				instance("shared").run((late) -> Awaits.until(BOUND,
						() -> balancer(late).backend("ptu").state() == BackendState.CIRCUIT_OPEN,
						"a late instance reads the timeout from Redis"));
			}));
	}

	@Test
	void misconfigurationIsShared() {
		this.ptu.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(401)));
		instance("shared").run((one) -> instance("shared").run((two) -> {
			awaitSubscribers("shared", 2);
			assertThat(call(one)).isEqualTo("paygo");
			Awaits.until(BOUND, () -> balancer(two).backend("ptu").state() == BackendState.MISCONFIGURED,
					"the other instance learns the misconfiguration");
			assertThat(balancer(two).backend("ptu").misconfiguration()).isEqualTo("answered 401");
		}));
	}

	@Test
	void anOperatorsDisableEnableAndResetReachEveryInstanceAndDisablesReachLateJoiners() {
		instance("shared").run((one) -> instance("shared").run((two) -> {
			awaitSubscribers("shared", 2);
			assertThat(balancer(one).disable("ptu")).isTrue();
			Awaits.until(BOUND, () -> balancer(two).backend("ptu").state() == BackendState.DISABLED,
					"the other instance learns the disable");
			assertThat(call(two)).isEqualTo("paygo");
			// stored with a TTL of a week, like everything this store writes
			long ttl = Long.parseLong(this.redis.command("PTTL shared:disabled:ptu").lines().findFirst().orElseThrow().substring(1));
			assertThat(ttl).isBetween(RedisSharedState.DISABLED_FOR.minusMinutes(1).toMillis(),
					RedisSharedState.DISABLED_FOR.toMillis());
			instance("shared").run((late) -> Awaits.until(BOUND,
					() -> balancer(late).backend("ptu").state() == BackendState.DISABLED,
					"a late instance reads the disable from Redis"));

			assertThat(balancer(one).enable("ptu")).isTrue();
			Awaits.until(BOUND, () -> balancer(two).backend("ptu").state() == BackendState.AVAILABLE,
					"the other instance learns the enable");
			assertThat(call(two)).isEqualTo("ptu");
			assertThat(this.redis.command("EXISTS shared:disabled:ptu")).startsWith(":0");

			throttleOnce(this.ptu, "Retry-After", "60");
			assertThat(call(two)).isEqualTo("paygo");
			Awaits.until(BOUND, () -> balancer(one).backend("ptu").state() == BackendState.COOLING_DOWN,
					"the first instance learns the cool-down");
			assertThat(balancer(one).reset("ptu")).isTrue();
			Awaits.until(BOUND, () -> balancer(two).backend("ptu").state() == BackendState.AVAILABLE,
					"the reset ends the cool-down on the other instance");
			assertThat(call(two)).isEqualTo("ptu");
			assertThat(this.redis.command("EXISTS shared:cooldown:ptu")).startsWith(":0");
		}));
	}

	@Test
	void a429ForOneModelCoolsOnlyThatDeploymentOnTheOtherInstancesUntilAReset() {
		this.ptu.stubFor(post(urlPathMatching(".*/chat-ptu/.*")).inScenario("throttle")
			.whenScenarioStateIs(Scenario.STARTED)
			.willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60"))
			.willSetStateTo("answering"));
		mapped("shared").run((one) -> mapped("shared").run((two) -> {
			assertThat(one).hasNotFailed();
			awaitSubscribers("shared", 2);
			assertThat(call(one, "gpt-4o")).isEqualTo("paygo");
			Instant until = balancer(one).backend("ptu").deployment("gpt-4o").coolingDownUntil();
			assertThat(until).isNotNull();
			Awaits.until(BOUND,
					() -> sameCoolDown(until, balancer(two).backend("ptu").deployment("gpt-4o").coolingDownUntil()),
					"the other instance learns the deployment's cool-down");
			// the backend and its other deployment are left as they were
			assertThat(balancer(two).backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
			assertThat(balancer(two).backend("ptu").deployment(EMBEDDINGS).state()).isEqualTo(BackendState.AVAILABLE);
			assertThat(call(two, "gpt-4o")).isEqualTo("paygo");
			assertThat(call(two, EMBEDDINGS)).isEqualTo("ptu");
			assertThat(this.ptu.getAllServeEvents()).hasSize(2);
			assertThat(this.redis.command("PTTL shared:cooldown:ptu:gpt-4o")).matches(":\\d+\\n(?s).*");
			assertThat(this.redis.command("EXISTS shared:cooldown:ptu")).startsWith(":0");
			// a late joiner reads the pair through, and only the pair
			mapped("shared").run((late) -> {
				Awaits.until(BOUND,
						() -> sameCoolDown(until, balancer(late).backend("ptu").deployment("gpt-4o").coolingDownUntil()),
						"a late instance reads the deployment's cool-down from Redis");
				assertThat(balancer(late).backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
				assertThat(balancer(late).backend("ptu").deployment(EMBEDDINGS).state())
					.isEqualTo(BackendState.AVAILABLE);
			});

			assertThat(balancer(two).reset("ptu")).isTrue();
			Awaits.until(BOUND,
					() -> balancer(one).backend("ptu").deployment("gpt-4o").state() == BackendState.AVAILABLE,
					"the reset ends the deployment's cool-down on the other instance");
			Awaits.until(BOUND, () -> this.redis.command("EXISTS shared:cooldown:ptu:gpt-4o").startsWith(":0"),
					"the reset deletes the deployment's key");
			assertThat(call(one, "gpt-4o")).isEqualTo("ptu");
		}));
	}

	@Test
	void a404ForOneModelMarksOnlyThatDeploymentOnTheOtherInstancesAndLateJoiners() {
		this.ptu.stubFor(post(urlPathMatching(".*/emb-ptu/.*")).willReturn(aResponse().withStatus(404)));
		mapped("shared").run((one) -> mapped("shared").run((two) -> {
			assertThat(one).hasNotFailed();
			awaitSubscribers("shared", 2);
			assertThat(call(one, EMBEDDINGS)).isEqualTo("last");
			Awaits.until(BOUND,
					() -> balancer(two).backend("ptu").deployment(EMBEDDINGS).state() == BackendState.MISCONFIGURED,
					"the other instance learns the deployment is not served there");
			assertThat(balancer(two).backend("ptu").deployment(EMBEDDINGS).notServed()).isEqualTo("answered 404");
			assertThat(balancer(two).backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
			assertThat(balancer(two).backend("ptu").deployment("gpt-4o").state()).isEqualTo(BackendState.AVAILABLE);
			assertThat(this.redis.command("PTTL shared:misconfigured:ptu:" + EMBEDDINGS)).matches(":\\d+\\n(?s).*");
			assertThat(this.redis.command("EXISTS shared:misconfigured:ptu")).startsWith(":0");
			mapped("shared").run((late) -> Awaits.until(BOUND,
					() -> balancer(late).backend("ptu").deployment(EMBEDDINGS).state() == BackendState.MISCONFIGURED,
					"a late instance reads the mark from Redis"));
		}));
	}

	@Test
	void redisDownKeepsServingFromLocalStateAndRecoversWhenItIsBack(CapturedOutput output) {
		this.ptu.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
		instance("shared").run((one) -> instance("shared").run((two) -> {
			awaitSubscribers("shared", 2);
			assertThat(health(one).details()).containsEntry("store", "redis");
			this.redis.stop();
			for (int i = 0; i < 5; i++) {
				assertThat(call(one)).isEqualTo("paygo");
				assertThat(call(two)).isEqualTo("paygo");
			}
			// each instance paid its own 429, and only one: its local state still works
			assertThat(this.ptu.getAllServeEvents()).hasSize(2);
			RedisSharedState oneState = one.getBean(RedisSharedState.class);
			RedisSharedState twoState = two.getBean(RedisSharedState.class);
			Awaits.until(BOUND, () -> !oneState.isConnected() && !twoState.isConnected(),
					"both instances notice Redis is gone");
			for (int i = 0; i < 3; i++) {
				BootLine.HealthReport health = health(one);
				assertThat(health.status()).isEqualTo("UP");
				assertThat(health.details()).containsEntry("store", "degraded").containsKey("error");
			}
			assertThat(warnings(output)).isEqualTo(2);

			this.redis.restart();
			awaitSubscribers("shared", 2);
			Awaits.until(BOUND, () -> health(one).details().get("store").equals("redis"),
					"the first instance uses Redis again");
			this.paygo.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
			assertThat(call(one)).isEqualTo("last");
			Instant until = balancer(one).backend("paygo").coolingDownUntil();
			assertThat(until).isNotNull();
			Awaits.until(BOUND, () -> sameCoolDown(until, balancer(two).backend("paygo")),
					"sharing works again without restarting the application");
			assertThat(warnings(output)).isEqualTo(2);
			assertThat(output.getAll()).contains("Redis state store 'shared' is reachable again");
		}));
	}

	private ApplicationContextRunner instance(String namespace) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(BootLine.REDIS))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbRedisStateAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + this.redis.port(),
					"openai.lb.state.store=redis", "openai.lb.state.namespace=" + namespace,
					"openai.lb.backends[0].name=ptu", "openai.lb.backends[0].url=" + this.ptu.baseUrl(),
					"openai.lb.backends[1].name=paygo", "openai.lb.backends[1].url=" + this.paygo.baseUrl(),
					"openai.lb.backends[1].priority=2", "openai.lb.backends[2].name=last",
					"openai.lb.backends[2].url=" + this.last.baseUrl(), "openai.lb.backends[2].priority=3");
	}

	/**
	 * An instance whose backends keep state per model: {@code ptu} maps chat and embeddings,
	 * {@code paygo} chat only, {@code last} none (it serves both under their own names).
	 */
	private ApplicationContextRunner mapped(String namespace) {
		return instance(namespace).withPropertyValues("openai.lb.backends[0].deployments.gpt-4o=chat-ptu",
				"openai.lb.backends[0].deployments." + EMBEDDINGS + "=emb-ptu",
				"openai.lb.backends[1].deployments.gpt-4o=chat-paygo");
	}

	private static void throttleOnce(WireMockServer server, String header, String value) {
		server.stubFor(post(anyUrl()).inScenario("throttle")
			.whenScenarioStateIs(Scenario.STARTED)
			.willReturn(aResponse().withStatus(429).withHeader(header, value))
			.willSetStateTo("answering"));
		server.stubFor(post(anyUrl()).inScenario("throttle")
			.whenScenarioStateIs("answering")
			.willReturn(okJson("\"ptu\"")));
	}

	/** Subscriptions are asynchronous: wait until every instance listens before publishing. */
	private void awaitSubscribers(String namespace, int count) {
		Awaits.until(BOUND, () -> this.redis.command("PUBSUB NUMSUB " + namespace + ":events").contains("\n:" + count + "\n"),
				count + " instances subscribe to " + namespace);
	}

	private static String call(AssertableApplicationContext context) {
		return call(context, "gpt");
	}

	/** One call for a model, on Azure's deployment path. */
	private static String call(AssertableApplicationContext context, String model) {
		BalancingClientHttpConnector connector = context.getBean("openAiLbConnector",
				BalancingClientHttpConnector.class);
		String body = WebClient.builder()
			.clientConnector(connector)
			.baseUrl(BalancingClientHttpConnector.BASE_URL)
			.build()
			.post()
			.uri("/openai/deployments/" + model + "/chat/completions?api-version=1")
			.bodyValue("{}")
			.retrieve()
			.bodyToMono(String.class)
			.block(Duration.ofSeconds(10));
		return Objects.requireNonNull(body).replace("\"", "");
	}

	/**
	 * Whether another instance has the same cool-down. It learns the time left, not the
	 * deadline, so its deadline is later by the time the news took to arrive (and for a key
	 * read back, Redis counts the TTL in whole milliseconds): at most a second here.
	 */
	private static boolean sameCoolDown(Instant until, Backend other) {
		return sameCoolDown(until, other.coolingDownUntil());
	}

	private static boolean sameCoolDown(Instant until, Instant learned) {
		return learned != null && !learned.isBefore(until.minusMillis(1))
				&& !learned.isAfter(until.plusSeconds(1));
	}

	private static LoadBalancer balancer(AssertableApplicationContext context) {
		return context.getBean(LoadBalancer.class);
	}

	private static BootLine.HealthReport health(AssertableApplicationContext context) {
		return BootLine.health(context, "openAiLbStateHealthIndicator");
	}

	private static long warnings(CapturedOutput output) {
		return output.getAll().lines().filter((line) -> line.contains("Redis state store 'shared' is unavailable")).count();
	}

}
