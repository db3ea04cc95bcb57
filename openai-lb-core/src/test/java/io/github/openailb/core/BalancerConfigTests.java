package io.github.openailb.core;

import java.time.Duration;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link BalancerConfig}: validation (SPEC §1) and URL normalisation.
 */
class BalancerConfigTests {

	private static final String KEY = "sk-TOPSECRET-key-0123456789";

	private static final String URL_SECRET = "URLSECRET42";

	@Test
	void defaultsAreThoseDocumented() {
		BalancerConfig config = BalancerConfig.builder()
			.backend(new BalancerConfig.BackendBuilder().name("a").url("https://a.example.com"))
			.build();
		assertThat(config.defaultRetryAfter()).isEqualTo(Duration.ofSeconds(10));
		assertThat(config.maxCoolDown()).isEqualTo(Duration.ofMinutes(5));
		assertThat(config.maxWait()).isZero();
		BackendConfig a = config.backends().get(0);
		assertThat(a.priority()).isEqualTo(1);
		assertThat(a.weight()).isEqualTo(1);
		assertThat(a.enabled()).isTrue();
		assertThat(a.apiKey()).isNull();
		assertThat(a.deployment()).isNull();
		assertThat(a.keyStyle()).isEqualTo(KeyStyle.API_KEY);
	}

	@Test
	void backendsKeepDeclarationOrderAndSettings() {
		BalancerConfig config = BalancerConfig.builder()
			.backend(backend("a").priority(2).weight(3).apiKey("  " + KEY + " ").deployment(" gpt-4o-eu "))
			.backend(backend("b").enabled(false).keyStyle(KeyStyle.BEARER))
			.build();
		assertThat(config.backends()).extracting(BackendConfig::name).containsExactly("a", "b");
		BackendConfig a = config.backends().get(0);
		assertThat(a.priority()).isEqualTo(2);
		assertThat(a.weight()).isEqualTo(3);
		assertThat(a.apiKey()).isEqualTo(KEY);
		assertThat(a.deployment()).isEqualTo("gpt-4o-eu");
		assertThat(config.backends().get(1).enabled()).isFalse();
		assertThat(config.backends().get(1).keyStyle()).isEqualTo(KeyStyle.BEARER);
	}

	@Test
	void blankDeploymentAndNoKeyMeanNone() {
		BackendConfig a = BalancerConfig.builder()
			.backend(backend("a").apiKey(null).deployment(""))
			.build()
			.backends()
			.get(0);
		assertThat(a.apiKey()).isNull();
		assertThat(a.deployment()).isNull();
	}

	/** Issue #17: an empty key is a variable that resolved to nothing, never silently another credential. */
	@ParameterizedTest
	@ValueSource(strings = { "", "   " })
	void blankKeyIsRefusedAndTheFixNamesEntraId(String key) {
		assertInvalid(one((b) -> b.apiKey(key)), "openai.lb.backends[0].api-key", "is blank",
				"openai.lb.backends[0].auth=entra");
	}

	/** A key no HTTP header may carry is refused at start-up, and never echoed. */
	@ParameterizedTest
	@ValueSource(strings = { "0123456789abcdef\n0123456789abcdef", "0123456789abcdef 0123456789abcdef",
			"0123456789abcdef\u00e90123456789abcdef" })
	void keyThatNoHeaderMayCarryIsRefusedWithoutEchoingIt(String key) {
		String all = assertInvalid(one((b) -> b.apiKey(key)), "openai.lb.backends[0].api-key",
				"which no HTTP header may carry", "Copy the key again");
		assertThat(all).doesNotContain("0123456789abcdef");
	}

	@ParameterizedTest
	@ValueSource(strings = { "https://a.example.com:99999", "https://a.example.com:0", "http://a.example.com:65536/ai" })
	void portOutOfRange(String url) {
		assertInvalid(one((b) -> b.url(url)), "openai.lb.backends[0].url", "outside 1 to 65535", "port");
	}

	@ParameterizedTest
	@ValueSource(strings = { "https://a.openai.azure.com/openai/deployments/gpt-4o",
			"https://a.openai.azure.com/openai/deployments/gpt-4o/chat/completions",
			"https://gw.example.com/ai/OpenAI/Deployments/x/" })
	void urlWithTheDeploymentPathWouldBeDoubled(String url) {
		String all = assertInvalid(second((b) -> b.url(url)), "openai.lb.backends[1].url",
				"already contains /openai/deployments/", "openai.lb.backends[1].deployment");
		assertThat(all).contains("base URL only");
	}

	@Test
	void everyProblemIsReportedAtOnceInOrder() {
		InvalidConfigurationException ex = org.assertj.core.api.Assertions.catchThrowableOfType(
				InvalidConfigurationException.class,
				() -> BalancerConfig.builder()
					.maxWait(Duration.ofSeconds(-1))
					.backend(backend("a").weight(0).url("ftp://a"))
					.backend(backend("b").name("b c").priority(0))
					.backend(backend("d"))
					.backend(backend("d"))
					.build());
		assertThat(ex.getProblems()).extracting(ConfigurationProblems.Problem::property)
			.containsExactly("openai.lb.max-wait", "openai.lb.backends[0].url", "openai.lb.backends[0].weight",
					"openai.lb.backends[1].name", "openai.lb.backends[1].priority", "openai.lb.backends[3].name");
		assertThat(ex.getProperty()).isEqualTo("openai.lb.max-wait");
		assertThat(ex.getMessage()).startsWith("6 problems: openai.lb.max-wait: ").contains("openai.lb.backends[3].name");
		assertThat(ex.getProblems()).allSatisfy((problem) -> assertThat(problem.action()).isNotBlank());
		assertThat(ex.getMessage() + ex.getProblems()).doesNotContain(KEY);
	}

	@Test
	void backendToStringHidesTheKey() {
		BackendConfig a = BalancerConfig.builder().backend(backend("a").apiKey(KEY)).build().backends().get(0);
		assertThat(a.toString()).doesNotContain(KEY).contains("******");
	}

	@Test
	void urlTrailingSlashIsStripped() {
		assertThat(url("https://oai-eastus.openai.azure.com/")).isEqualTo("https://oai-eastus.openai.azure.com");
		assertThat(url("https://oai-eastus.openai.azure.com//")).isEqualTo("https://oai-eastus.openai.azure.com");
		assertThat(url("https://oai-eastus.openai.azure.com")).isEqualTo("https://oai-eastus.openai.azure.com");
	}

	@Test
	void urlPathPrefixIsKept() {
		assertThat(url("https://gw.example.com/ai")).isEqualTo("https://gw.example.com/ai");
		assertThat(url("https://gw.example.com/ai/v2/")).isEqualTo("https://gw.example.com/ai/v2");
	}

	@Test
	void urlPortIsKeptAndSchemeLowerCased() {
		assertThat(url("HTTP://localhost:8080/")).isEqualTo("http://localhost:8080");
		BackendConfig a = BalancerConfig.builder()
			.backend(backend("a").url(" http://localhost:8080/x "))
			.build()
			.backends()
			.get(0);
		assertThat(a.host()).isEqualTo("localhost:8080");
		assertThat(a.url().toString()).isEqualTo("http://localhost:8080/x");
	}

	@Test
	void noBackends() {
		assertInvalid(BalancerConfig.builder(), "openai.lb.backends", "no backend", "openai.lb.backends[0].url");
	}

	@Test
	void duplicateNames() {
		assertInvalid(BalancerConfig.builder().backend(backend("a").apiKey(KEY)).backend(backend("a").apiKey(KEY)),
				"openai.lb.backends[1].name", "'a' is used by another backend", "unique name");
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "   " })
	void blankName(String name) {
		assertInvalid(one((b) -> b.name(name)), "openai.lb.backends[0].name", "missing or blank", "unique name");
	}

	@Test
	void missingName() {
		assertInvalid(BalancerConfig.builder().backend(new BalancerConfig.BackendBuilder().url("https://x.example.com")),
				"openai.lb.backends[0].name", "missing or blank", "unique name");
	}

	@ParameterizedTest
	@ValueSource(strings = { "east us", "a/b", "a{b}", "ä", "a,b" })
	void invalidName(String name) {
		assertInvalid(one((b) -> b.name(name)), "openai.lb.backends[0].name", "contains characters", "simple name");
	}

	@Test
	void invalidNameOnTheSecondBackendNamesItsIndex() {
		assertInvalid(BalancerConfig.builder().backend(backend("a")).backend(backend("b").name("b c")),
				"openai.lb.backends[1].name", "contains characters", "simple name");
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "  " })
	void blankUrl(String url) {
		assertInvalid(one((b) -> b.url(url)), "openai.lb.backends[0].url", "missing or blank",
				"https://my-instance.openai.azure.com");
	}

	@Test
	void missingUrl() {
		assertInvalid(BalancerConfig.builder().backend(new BalancerConfig.BackendBuilder().name("a")),
				"openai.lb.backends[0].url", "missing or blank", "https://my-instance.openai.azure.com");
	}

	@Test
	void urlWithoutScheme() {
		assertInvalid(second((b) -> b.url("oai-eastus.openai.azure.com")), "openai.lb.backends[1].url",
				"must start with https:// or http://", "https://my-instance.openai.azure.com");
	}

	@Test
	void ftpUrl() {
		assertInvalid(second((b) -> b.url("ftp://files.example.com")), "openai.lb.backends[1].url",
				"must start with https:// or http://", "https://my-instance.openai.azure.com");
	}

	@ParameterizedTest
	@ValueSource(strings = { "https:///openai", "http://under_score.example.com", "https:/oai.example.com" })
	void urlWithoutHost(String url) {
		assertInvalid(second((b) -> b.url(url)), "openai.lb.backends[1].url", "has no host",
				"https://my-instance.openai.azure.com");
	}

	@ParameterizedTest
	@ValueSource(strings = { "https://", "https://oai example.com", "https://oai.example.com:port", "https://[::1" })
	void malformedUrl(String url) {
		assertInvalid(second((b) -> b.url(url)), "openai.lb.backends[1].url", "", "https://my-instance.openai.azure.com");
	}

	@Test
	void urlWithQueryStringHidesIt() {
		String message = assertInvalid(second((b) -> b.url("https://oai.example.com/?api-key=" + URL_SECRET)),
				"openai.lb.backends[1].url", "query string", "no query string");
		assertThat(message).doesNotContain(URL_SECRET);
	}

	@Test
	void urlWithUserInfoHidesIt() {
		String message = assertInvalid(second((b) -> b.url("https://user:" + URL_SECRET + "@oai.example.com")),
				"openai.lb.backends[1].url", "user info", "https://my-instance.openai.azure.com");
		assertThat(message).doesNotContain(URL_SECRET);
	}

	@Test
	void urlWithFragment() {
		assertInvalid(second((b) -> b.url("https://oai.example.com/#" + URL_SECRET)), "openai.lb.backends[1].url",
				"fragment", "https://my-instance.openai.azure.com");
	}

	@ParameterizedTest
	@ValueSource(strings = { "https://user:" + URL_SECRET + "@oai example.com", "https://oai example.com/?key=" + URL_SECRET,
			"ftp://user:" + URL_SECRET + "@files.example.com", "oai.example.com?api-key=" + URL_SECRET,
			"https://oai example.com/#" + URL_SECRET, "ftp://files.example.com/x?sig=" + URL_SECRET })
	void secretsInUrlsThatAreEchoedAreRedacted(String url) {
		String message = assertInvalid(second((b) -> b.url(url)), "openai.lb.backends[1].url", "",
				"https://my-instance.openai.azure.com");
		assertThat(message).doesNotContain(URL_SECRET);
	}

	@ParameterizedTest
	@ValueSource(ints = { 0, -1, Integer.MIN_VALUE })
	void priorityBelowOne(int priority) {
		assertInvalid(second((b) -> b.priority(priority)), "openai.lb.backends[1].priority", "must be 1 or more",
				"1 for the preferred tier");
	}

	@ParameterizedTest
	@ValueSource(ints = { 0, -3 })
	void weightBelowOne(int weight) {
		assertInvalid(second((b) -> b.weight(weight)), "openai.lb.backends[1].weight", "must be 1 or more",
				"enabled=false");
	}

	@ParameterizedTest
	@ValueSource(strings = { "gpt 4o", "gpt/4o", "gpt?4o", "../x" })
	void invalidDeployment(String deployment) {
		assertInvalid(second((b) -> b.deployment(deployment)), "openai.lb.backends[1].deployment",
				"not a valid deployment name", "deployment name exactly");
	}

	@Test
	void deploymentWithDotsColonsAndDashesIsValid() {
		BackendConfig a = BalancerConfig.builder()
			.backend(backend("a").deployment("gpt-4o_2024.08:eu"))
			.build()
			.backends()
			.get(0);
		assertThat(a.deployment()).isEqualTo("gpt-4o_2024.08:eu");
	}

	@Test
	void negativeMaxWait() {
		assertInvalid(BalancerConfig.builder().backend(backend("a")).maxWait(Duration.ofMillis(-1)), "openai.lb.max-wait",
				"must not be negative", "0s (fail fast)");
	}

	@Test
	void missingMaxWait() {
		assertInvalid(BalancerConfig.builder().backend(backend("a")).maxWait(null), "openai.lb.max-wait",
				"must not be negative", "0s (fail fast)");
	}

	@Test
	void zeroMaxWaitIsValid() {
		assertThat(BalancerConfig.builder().backend(backend("a")).maxWait(Duration.ZERO).build().maxWait()).isZero();
	}

	@ParameterizedTest
	@ValueSource(longs = { 0, -1, -10_000 })
	void notPositiveDefaultRetryAfter(long millis) {
		assertInvalid(BalancerConfig.builder().backend(backend("a")).defaultRetryAfter(Duration.ofMillis(millis)),
				"openai.lb.default-retry-after", "must be a positive duration", "such as 10s");
	}

	@ParameterizedTest
	@ValueSource(longs = { 0, -1, -10_000 })
	void notPositiveMaxCoolDown(long millis) {
		assertInvalid(BalancerConfig.builder().backend(backend("a")).maxCoolDown(Duration.ofMillis(millis)),
				"openai.lb.max-cool-down", "must be a positive duration", "such as 5m");
	}

	@Test
	void missingDurations() {
		assertInvalid(BalancerConfig.builder().backend(backend("a")).defaultRetryAfter(null),
				"openai.lb.default-retry-after", "must be a positive duration", "such as 10s");
		assertInvalid(BalancerConfig.builder().backend(backend("a")).maxCoolDown(null), "openai.lb.max-cool-down",
				"must be a positive duration", "such as 5m");
	}

	@Test
	void redactedRemovesUserInfoQueryAndFragment() {
		assertThat(BalancerConfig.redacted(" https://u:p@h.example.com/x?k=v#f ")).isEqualTo("https://h.example.com/x");
		assertThat(BalancerConfig.redacted("u:p@h.example.com")).isEqualTo("h.example.com");
		assertThat(BalancerConfig.redacted("https://h.example.com/a#b?c")).isEqualTo("https://h.example.com/a");
	}

	private static BalancerConfig.BackendBuilder backend(String name) {
		return new BalancerConfig.BackendBuilder().name(name).url("https://" + name + ".example.com").apiKey(KEY);
	}

	private static String url(String url) {
		return BalancerConfig.builder().backend(backend("a").url(url)).build().backends().get(0).url().toString();
	}

	private static BalancerConfig.Builder one(UnaryOperator<BalancerConfig.BackendBuilder> change) {
		return BalancerConfig.builder().backend(change.apply(backend("a")));
	}

	/** The faulty backend second, so the index in the property path is checked too. */
	private static BalancerConfig.Builder second(UnaryOperator<BalancerConfig.BackendBuilder> change) {
		return BalancerConfig.builder().backend(backend("a")).backend(change.apply(backend("b")));
	}

	/** Asserts the property path, the problem and the fix, and that the key never shows; returns all text. */
	private static String assertInvalid(BalancerConfig.Builder builder, String property, String problem,
			String action) {
		InvalidConfigurationException ex = org.assertj.core.api.Assertions
			.catchThrowableOfType(InvalidConfigurationException.class, builder::build);
		assertThat(ex).as("expected an InvalidConfigurationException").isNotNull();
		assertThat(ex.getProperty()).isEqualTo(property);
		assertThat(ex.getMessage()).startsWith(property + ": ").contains(problem);
		assertThat(ex.getAction()).isNotBlank().contains(action);
		String all = ex.getMessage() + " " + ex.getAction() + " " + ex;
		assertThat(all).doesNotContain(KEY);
		assertThat(ex.getCause()).isNull();
		assertThatExceptionOfType(IllegalArgumentException.class).isThrownBy(builder::build);
		return all;
	}

}
