package io.github.openailb.redis;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.openailb.core.BackendState;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.Exchange;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Step;
import io.github.openailb.testsupport.Awaits;
import io.github.openailb.testsupport.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an instance accepts from Redis, written there by someone else than a well-behaved
 * instance: hand-made announcements and keys on a real {@code redis-server}, and replicas whose
 * clocks are an hour off. Engines without HTTP: only the store is under test.
 */
@ExtendWith(OutputCaptureExtension.class)
class RedisSharedStateBoundsTests {

	private static final Duration BOUND = Duration.ofSeconds(30);

	private static final Duration MAX_COOL_DOWN = Duration.ofMinutes(1);

	private static final String CHANNEL = "shared:events";

	/** A model name as fine-tuned ones look: ':' inside, a '.' too. */
	private static final String MODEL = "ft:gpt-4o.mini:org::1";

	private final List<AutoCloseable> closing = new ArrayList<>();

	private RedisServerProcess redis;

	@BeforeEach
	void start() {
		this.redis = RedisServerProcess.start();
	}

	@AfterEach
	void stop() throws Exception {
		for (AutoCloseable closeable : this.closing) {
			closeable.close();
		}
		if (this.redis != null) {
			this.redis.stop();
		}
	}

	@ParameterizedTest
	@ValueSource(strings = { "2036", "9223372036854775807", "315360000000" })
	void anAnnouncedCoolDownBeyondMaxCoolDownIsCapped(String remaining) {
		LoadBalancer instance = instance(Clock.systemUTC());
		awaitSubscribers(1);
		// "2036": the milliseconds from now until 2036, as the attack in issue #16 had it
		String millis = remaining.equals("2036")
				? Long.toString(Instant.parse("2036-01-01T00:00:00Z").toEpochMilli() - System.currentTimeMillis())
				: remaining;
		long before = System.currentTimeMillis();
		publish(announcement("ptu", millis, "answered 429"));
		Awaits.until(BOUND, () -> instance.backend("ptu").coolingDownUntil() != null, "the announcement is applied");
		long after = System.currentTimeMillis();
		assertThat(instance.backend("ptu").coolingDownUntil().toEpochMilli())
			.isBetween(before + MAX_COOL_DOWN.toMillis(), after + MAX_COOL_DOWN.toMillis());
	}

	@ParameterizedTest
	@ValueSource(strings = { "-5000", "0", "garbage", "+5000", "5e3", "99999999999999999999999", "" })
	void anAnnouncedCoolDownThatIsNotAPositiveNumberIsIgnored(String remaining) {
		LoadBalancer instance = instance(Clock.systemUTC());
		awaitSubscribers(1);
		publish(announcement("ptu", remaining, "answered 429"));
		assertOnlyTheNextAnnouncementCounts(instance);
	}

	@Test
	void anOversizedAnnouncementIsIgnored() {
		LoadBalancer instance = instance(Clock.systemUTC());
		awaitSubscribers(1);
		publish(announcement("ptu", "30000", "x".repeat(RedisSharedState.MAX_MESSAGE_BYTES)));
		assertOnlyTheNextAnnouncementCounts(instance);
	}

	@Test
	void newsOfABackendNotConfiguredHereIsIgnored() {
		LoadBalancer instance = instance(Clock.systemUTC());
		awaitSubscribers(1);
		publish(announcement("elsewhere", "30000", "answered 429"));
		publish(String.join("\n", "other-instance", "misconfigured", "elsewhere", "0", "answered 401"));
		assertOnlyTheNextAnnouncementCounts(instance);
		assertThat(instance.backend("elsewhere")).isNull();
	}

	@Test
	void anAnnouncedReasonIsCutToOneShortLine() {
		LoadBalancer instance = instance(Clock.systemUTC());
		awaitSubscribers(1);
		publish(String.join("\n", "other-instance", "misconfigured", "ptu", "0",
				"answered 401\u001b[31m\r\nFAKE LOG LINE " + "y".repeat(600)));
		Awaits.until(BOUND, () -> instance.backend("ptu").misconfiguration() != null, "the mark is applied");
		assertThat(instance.backend("ptu").misconfiguration()).startsWith("answered 401")
			.hasSizeLessThanOrEqualTo(200)
			.doesNotContain("\n", "\r", "\u001b");
	}

	@Test
	void aKeyWithoutTtlIsIgnoredAndDeletedByAnInstanceThatStartsLater(CapturedOutput output) {
		this.redis.call("SET", "shared:cooldown:ptu", "forever");
		this.redis.call("SET", "shared:misconfigured:paygo", "answered 401");
		this.redis.call("SET", "shared:cooldown:last", "answered 429", "PX", "30000");
		LoadBalancer late = instance(Clock.systemUTC());
		Awaits.until(BOUND, () -> late.backend("last").state() == BackendState.COOLING_DOWN,
				"the late instance reads the key with a TTL");
		Awaits.until(BOUND, () -> this.redis.command("EXISTS shared:cooldown:ptu").startsWith(":0")
				&& this.redis.command("EXISTS shared:misconfigured:paygo").startsWith(":0"), "keys without TTL are deleted");
		Awaits.until(BOUND, () -> output.getAll().contains("without a TTL"), "the deletion is reported");
		assertThat(late.backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(late.backend("paygo").state()).isEqualTo(BackendState.AVAILABLE);
		// a key written properly stays
		assertThat(this.redis.command("EXISTS shared:cooldown:last")).startsWith(":1");
		assertThat(output.getAll().lines().filter((line) -> line.contains("without a TTL"))).singleElement()
			.satisfies((line) -> assertThat(line).contains("WARN").doesNotContain("forever"));
	}

	@Test
	void aKeyWithAnAbsurdTtlIsCappedForAnInstanceThatStartsLater() {
		this.redis.call("SET", "shared:cooldown:ptu", "answered 429", "PX", Long.toString(Duration.ofDays(3650).toMillis()));
		long before = System.currentTimeMillis();
		LoadBalancer late = instance(Clock.systemUTC());
		Awaits.until(BOUND, () -> late.backend("ptu").coolingDownUntil() != null, "the late instance reads the key");
		long after = System.currentTimeMillis();
		assertThat(late.backend("ptu").coolingDownUntil().toEpochMilli())
			.isBetween(before + MAX_COOL_DOWN.toMillis(), after + MAX_COOL_DOWN.toMillis());
	}

	@Test
	void replicasWithClocksAnHourOffShareTheCoolDownTheBackendAskedFor() {
		LoadBalancer ahead = instance(Clock.offset(Clock.systemUTC(), Duration.ofHours(1)));
		LoadBalancer behind = instance(Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)));
		LoadBalancer right = instance(Clock.systemUTC());
		awaitSubscribers(3);
		long before = System.currentTimeMillis();
		throttle(ahead, "ptu", "20");
		throttle(behind, "paygo", "20");
		Awaits.until(BOUND, () -> right.backend("ptu").coolingDownUntil() != null
				&& right.backend("paygo").coolingDownUntil() != null, "both cool-downs arrive");
		long after = System.currentTimeMillis();
		// 20 s as the backend asked, not an hour more (capped at max-cool-down) nor an hour less (ignored)
		for (String backend : List.of("ptu", "paygo")) {
			assertThat(right.backend(backend).coolingDownUntil().toEpochMilli()).as(backend)
				.isBetween(before + 15_000, after + 20_000);
		}
		LoadBalancer late = instance(Clock.systemUTC());
		Awaits.until(BOUND, () -> late.backend("ptu").coolingDownUntil() != null, "a late instance reads the key");
		assertThat(late.backend("ptu").coolingDownUntil().toEpochMilli()).isBetween(before + 15_000,
				System.currentTimeMillis() + 20_000);
		// and every value was written with a TTL
		assertThat(this.redis.command("PTTL shared:cooldown:ptu")).matches(":\\d+\\n(?s).*");
		assertThat(this.redis.command("PTTL shared:cooldown:paygo")).matches(":\\d+\\n(?s).*");
	}

	@Test
	void aMisconfigurationMarkIsWrittenWithATtl() {
		LoadBalancer instance = instance(Clock.systemUTC());
		Exchange exchange = instance.begin();
		exchange.answered((Step.Attempt) exchange.next(), 401, (name) -> null, null);
		Awaits.until(BOUND, () -> this.redis.command("EXISTS shared:misconfigured:ptu").startsWith(":1"),
				"the mark is written");
		assertThat(this.redis.command("PTTL shared:misconfigured:ptu")).matches(":\\d+\\n(?s).*");
	}

	@Test
	void aDeploymentsCoolDownCrossesWithAModelNameHoldingColonsAndDots() {
		LoadBalancer one = instance(Clock.systemUTC(), Map.of(MODEL, "ft-ptu"));
		LoadBalancer two = instance(Clock.systemUTC(), Map.of(MODEL, "ft-ptu"));
		awaitSubscribers(2);
		Exchange exchange = one.begin(0, MODEL);
		exchange.answered((Step.Attempt) exchange.next(), 429, (name) -> "retry-after".equals(name) ? "20" : null, null);
		Awaits.until(BOUND, () -> two.backend("ptu").deployment(MODEL).coolingDownUntil() != null,
				"the other instance learns the deployment's cool-down");
		assertThat(two.backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(this.redis.call("PTTL", "shared:cooldown:ptu:" + MODEL)).matches(":\\d+\\n(?s).*");
		LoadBalancer late = instance(Clock.systemUTC(), Map.of(MODEL, "ft-ptu"));
		Awaits.until(BOUND, () -> late.backend("ptu").deployment(MODEL).coolingDownUntil() != null,
				"a late instance reads the deployment's key");
	}

	@Test
	void newsOfADeploymentIsBoundedLikeABackendsNews() {
		LoadBalancer instance = instance(Clock.systemUTC(), Map.of(MODEL, "ft-ptu"));
		awaitSubscribers(1);
		long before = System.currentTimeMillis();
		publish(announcement("ptu:" + MODEL, "9223372036854775807", "answered 429"));
		Awaits.until(BOUND, () -> instance.backend("ptu").deployment(MODEL).coolingDownUntil() != null,
				"the announcement is applied");
		long after = System.currentTimeMillis();
		assertThat(instance.backend("ptu").deployment(MODEL).coolingDownUntil().toEpochMilli())
			.isBetween(before + MAX_COOL_DOWN.toMillis(), after + MAX_COOL_DOWN.toMillis());
		publish(String.join("\n", "other-instance", "misconfigured", "ptu:" + MODEL, "0",
				"answered 404\u001b[31m\r\nFAKE LOG LINE " + "y".repeat(600)));
		Awaits.until(BOUND, () -> instance.backend("ptu").deployment(MODEL).notServed() != null, "the mark is applied");
		assertThat(instance.backend("ptu").deployment(MODEL).notServed()).startsWith("answered 404")
			.hasSizeLessThanOrEqualTo(200)
			.doesNotContain("\n", "\r", "\u001b");
		// a model or backend not configured here, and what is never kept per model, are ignored
		publish(announcement("ptu:made-up", "30000", "answered 429"));
		publish(announcement("elsewhere:" + MODEL, "30000", "answered 429"));
		publish(String.join("\n", "other-instance", "circuit-open", "paygo:" + MODEL, "30000", "timed out"));
		publish(String.join("\n", "other-instance", "misconfigured", "paygo:made-up", "0", "answered 404"));
		assertOnlyTheNextAnnouncementCounts(instance);
		assertThat(instance.backend("paygo").deployment("made-up")).isNull();
		assertThat(instance.backend("paygo").misconfiguration()).isNull();
	}

	/**
	 * After the announcement under test, announce a proper cool-down of {@code last}: once that
	 * one is applied, the one before was handled (a channel delivers in order), and it must have
	 * left {@code ptu} and {@code paygo} as they were.
	 */
	private void assertOnlyTheNextAnnouncementCounts(LoadBalancer instance) {
		publish(announcement("last", "30000", "answered 429"));
		Awaits.until(BOUND, () -> instance.backend("last").state() == BackendState.COOLING_DOWN,
				"the announcement that follows is applied");
		assertThat(instance.backend("ptu").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(instance.backend("paygo").state()).isEqualTo(BackendState.AVAILABLE);
	}

	/** One request whose attempt on {@code backend} answers 429; backends before it fail (and are not shared). */
	private static void throttle(LoadBalancer instance, String backend, String retryAfter) {
		Exchange exchange = instance.begin();
		Step.Attempt attempt = (Step.Attempt) exchange.next();
		while (!attempt.backend().name().equals(backend)) {
			exchange.answered(attempt, 500, (name) -> null, "");
			attempt = (Step.Attempt) exchange.next();
		}
		exchange.answered(attempt, 429, (name) -> "retry-after".equals(name) ? retryAfter : null, null);
	}

	private static String announcement(String backend, String millis, String reason) {
		return String.join("\n", "other-instance", "cooldown", backend, millis, reason);
	}

	private void publish(String message) {
		assertThat(this.redis.call("PUBLISH", CHANNEL, message)).startsWith(":");
	}

	private void awaitSubscribers(int count) {
		Awaits.until(BOUND, () -> this.redis.command("PUBSUB NUMSUB " + CHANNEL).contains("\n:" + count + "\n"),
				count + " instances subscribe");
	}

	/** One application instance: an engine sharing state through its own connection to Redis. */
	private LoadBalancer instance(Clock clock) {
		return instance(clock, Map.of());
	}

	/** One instance whose backend {@code ptu} maps these models; the others serve them under their names. */
	private LoadBalancer instance(Clock clock, Map<String, String> ptuDeployments) {
		LettuceConnectionFactory connections = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration("127.0.0.1", this.redis.port()));
		connections.afterPropertiesSet();
		connections.start();
		RedisSharedState state = new RedisSharedState(connections, "shared", Duration.ofSeconds(2), MAX_COOL_DOWN,
				clock);
		this.closing.add(0, connections::destroy);
		this.closing.add(0, state::destroy);
		BalancerConfig config = BalancerConfig.builder()
			.maxCoolDown(MAX_COOL_DOWN)
			.backend(new BalancerConfig.BackendBuilder().name("ptu").url("http://127.0.0.1:9").deployments(ptuDeployments))
			.backend(new BalancerConfig.BackendBuilder().name("paygo").url("http://127.0.0.1:9").priority(2))
			.backend(new BalancerConfig.BackendBuilder().name("last").url("http://127.0.0.1:9").priority(3))
			.build();
		return LoadBalancer.builder(config).clock(clock).sharedState(state).build();
	}

}
