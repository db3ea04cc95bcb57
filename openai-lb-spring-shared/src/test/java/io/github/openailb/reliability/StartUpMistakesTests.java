package io.github.openailb.reliability;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issues #17 and #19: mistakes that used to pass start-up (a unit-less timeout, an empty or
 * unresolved key, a misspelt name, a wrongly spelt enum value, an impossible URL, Redis without
 * Lettuce) fail it, all at once, each named with its fix by the registered failure analyzer; the
 * ones a user may mean (every backend disabled, a key over plain HTTP) are warned about once.
 */
@ExtendWith(OutputCaptureExtension.class)
class StartUpMistakesTests {

	private static final String KEY = "sk-mistakes-secret-0123456789";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=https://a.openai.azure.com",
				"openai.lb.backends[0].api-key=" + KEY);

	static Stream<Arguments> mistakes() {
		return Stream.of(
				Arguments.of("openai.lb.response-timeout=120", "openai.lb.response-timeout", "120 milliseconds",
						"120s"),
				Arguments.of("openai.lb.max-wait=2", "openai.lb.max-wait", "no unit", "2s"),
				Arguments.of("openai.lb.backends[0].api-key=", "openai.lb.backends[0].api-key", "is blank",
						"openai.lb.backends[0].auth=entra"),
				Arguments.of("openai.lb.backends[0].url=https://a.openai.azure.com:99999", "openai.lb.backends[0].url",
						"outside 1 to 65535", "port"),
				Arguments.of("openai.lb.backends[0].url=https://a.openai.azure.com/openai/deployments/gpt-4o",
						"openai.lb.backends[0].url", "already contains /openai/deployments/",
						"openai.lb.backends[0].deployment"),
				Arguments.of("openai.lb.backends[0].api-key=${EASTUS_KEY_UNSET_IN_TESTS}",
						"openai.lb.backends[0].api-key", "${EASTUS_KEY_UNSET_IN_TESTS}", "EASTUS_KEY_UNSET_IN_TESTS"),
				Arguments.of("openai.lb.backends[0].wieght=3", "openai.lb.backends[0].wieght", "not an openai-lb property",
						"Did you mean 'openai.lb.backends[0].weight'?"),
				Arguments.of("openai.lb.resonse-timeout=5s", "openai.lb.resonse-timeout", "would be ignored",
						"Did you mean 'openai.lb.response-timeout'?"),
				Arguments.of("openai.lb.state.stroe=redis", "openai.lb.state.stroe", "would be ignored",
						"Did you mean 'openai.lb.state.store'?"),
				Arguments.of("openai.lb.completely-unrelated=1", "openai.lb.completely-unrelated", "would be ignored",
						"Configuration table"),
				Arguments.of("openai.lb.backends[0].key-style=Bearer", "openai.lb.backends[0].key-style",
						"'Bearer' is not one of api-key, bearer", "api-key, bearer"),
				Arguments.of("openai.lb.backends[0].key-style=api_key", "openai.lb.backends[0].key-style",
						"is not one of", "api-key, bearer"),
				Arguments.of("openai.lb.backends[0].auth=Entra", "openai.lb.backends[0].auth",
						"is not one of auto, api-key, entra, none", "auto, api-key, entra, none"),
				Arguments.of("openai.lb.strategy=Weighted", "openai.lb.strategy", "is not one of", "weighted"),
				Arguments.of("openai.lb.backends[0].key-style=authorization", "openai.lb.backends[0].key-style",
						"is not one of", "api-key, bearer"),
				Arguments.of("openai.lb.backends[0].weight=three", "openai.lb.backends[0].weight",
						"cannot be read as a whole number", "such as 2"),
				Arguments.of("openai.lb.connect-timeout=5 seconds", "openai.lb.connect-timeout",
						"cannot be read as a duration", "30s"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("mistakes")
	void eachMistakeFailsNamingThePropertyAndTheFix(String property, String path, String problem, String fix) {
		this.runner.withPropertyValues(property).run((context) -> {
			FailureAnalysis analysis = analysis(context);
			assertThat(analysis.getDescription()).contains(path).contains(problem);
			assertThat(analysis.getAction()).contains(path).contains(fix);
			assertThat(analysis.getDescription() + analysis.getAction()).doesNotContain(KEY);
		});
	}

	@Test
	void everyProblemIsReportedAtOnceByOneAnalysis() {
		this.runner
			.withPropertyValues("openai.lb.response-timeout=120", "openai.lb.backends[0].weight=0",
					"openai.lb.backends[0].key-style=Bearer", "openai.lb.backends[1].name=b",
					"openai.lb.backends[1].url=https://b.openai.azure.com",
					"openai.lb.backends[1].api-key=${WESTUS_KEY_UNSET_IN_TESTS}", "openai.lb.backends[1].wieght=3",
					"openai.lb.backends[1].priority=two", "openai.lb.pool.max-connections=0")
			.run((context) -> {
				FailureAnalysis analysis = analysis(context);
				List<String> paths = List.of("openai.lb.response-timeout", "openai.lb.backends[0].weight",
						"openai.lb.backends[0].key-style", "openai.lb.backends[1].api-key",
						"openai.lb.backends[1].wieght", "openai.lb.backends[1].priority",
						"openai.lb.pool.max-connections");
				assertThat(analysis.getDescription()).startsWith("The openai-lb configuration has 7 problems:");
				assertThat(analysis.getAction()).startsWith("Fix these properties:");
				for (String path : paths) {
					assertThat(analysis.getDescription()).contains("  - " + path + ": ");
					assertThat(analysis.getAction()).contains("  - " + path + ": ");
				}
				assertThat(analysis.getAction()).contains("120s", "positive weight", "api-key, bearer",
						"WESTUS_KEY_UNSET_IN_TESTS", "Did you mean 'openai.lb.backends[1].weight'?", "whole number",
						"e.g. 500");
				assertThat(analysis.getDescription() + analysis.getAction()).doesNotContain(KEY);
			});
	}

	@Test
	void aPropertyIsReportedOnceWithItsFirstProblem() {
		this.runner.withPropertyValues("openai.lb.response-timeout=-5").run((context) -> {
			FailureAnalysis analysis = analysis(context);
			assertThat(analysis.getDescription()).contains("'-5' has no unit").doesNotContain("positive duration");
		});
	}

	@Test
	void aPlaceholderInsideAKeyNamesTheVariableButNotTheRestOfTheValue() {
		this.runner.withPropertyValues("openai.lb.backends[0].api-key=sk-partial-secret-${MISSING_SUFFIX_VARIABLE}")
			.run((context) -> {
				FailureAnalysis analysis = analysis(context);
				assertThat(analysis.getDescription()).contains("openai.lb.backends[0].api-key")
					.contains("MISSING_SUFFIX_VARIABLE");
				assertThat(analysis.getDescription() + analysis.getAction()).doesNotContain("sk-partial-secret");
			});
	}

	@Test
	void aResolvedPlaceholderZeroAndDocumentedSpellingsStart() {
		this.runner
			.withPropertyValues("eastus.key=" + KEY, "openai.lb.backends[0].api-key=${eastus.key}",
					"openai.lb.max-wait=0", "openai.lb.backends[0].key-style=BEARER", "openai.lb.strategy=weighted",
					"openai.lb.backends[0].auth=api-key", "openai.lb.response-timeout=2m")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void relaxedNamesBindAndAreNotFlagged() {
		this.runner
			.withPropertyValues("openai.lb.backends[0].keyStyle=bearer", "openai.lb.responseTimeout=30s",
					"openai.lb.backends[0].key_style=bearer", "openai.lb.pool.maxConnections=10",
					"openai.lb.spring-ai.sdk-max-retries=1", "openai.lb.state.namespace=shop")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void aNumberReadFromYamlWithoutAUnitIsRefusedToo() {
		this.runner.withInitializer((context) -> context.getEnvironment()
			.getPropertySources()
			.addFirst(new MapPropertySource("application.yaml", Map.of("openai.lb.response-timeout", 120))))
			.run((context) -> assertThat(analysis(context).getAction()).contains("openai.lb.response-timeout")
				.contains("120s"));
	}

	@Test
	void environmentVariablesAreCheckedByValueButUnknownOnesAreNotFlagged() {
		Map<String, Object> variables = new HashMap<>();
		// set by Kubernetes for a service named openai-lb: not ours, and not a mistake
		variables.put("OPENAI_LB_SERVICE_HOST", "10.0.0.1");
		variables.put("OPENAI_LB_PORT", "tcp://10.0.0.1:80");
		variables.put("OPENAI_LB_BACKENDS_0_KEYSTYLE", "bearer");
		variables.put("OPENAI_LB_CONNECT_TIMEOUT", "3s");
		this.runner.withInitializer((context) -> environmentVariables(context.getEnvironment(), variables))
			.run((context) -> assertThat(context).hasNotFailed());
		variables.put("OPENAI_LB_RESPONSETIMEOUT", "120");
		variables.remove("OPENAI_LB_BACKENDS_0_KEYSTYLE");
		variables.put("OPENAI_LB_BACKENDS_0_KEY_STYLE", "Bearer");
		this.runner.withInitializer((context) -> environmentVariables(context.getEnvironment(), variables))
			.run((context) -> {
				FailureAnalysis analysis = analysis(context);
				assertThat(analysis.getDescription()).contains("openai.lb.response-timeout")
					.contains("openai.lb.backends[0].key-style")
					.doesNotContain("SERVICE")
					.doesNotContain("openai.lb.port");
			});
	}

	@Test
	void backendInsteadOfBackendsPointsAtTheUnknownName() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class))
			.withPropertyValues("openai.lb.backend[0].name=a", "openai.lb.backend[0].url=https://a.openai.azure.com")
			.run((context) -> {
				FailureAnalysis analysis = analysis(context);
				assertThat(analysis.getAction()).contains("Did you mean 'openai.lb.backends[0].name'?")
					.contains("Did you mean 'openai.lb.backends[0].url'?");
				assertThat(analysis.getDescription()).contains("openai.lb.backends: no backend is configured");
			});
	}

	@Test
	void redisStoreWithSpringDataRedisButWithoutLettuceFailsInsteadOfStayingLocal() {
		this.runner.withPropertyValues("openai.lb.state.store=redis")
			.withClassLoader(new FilteredClassLoader("io.lettuce"))
			.run((context) -> {
				FailureAnalysis analysis = analysis(context);
				assertThat(analysis.getDescription()).contains("openai.lb.state.store").contains("Lettuce");
				assertThat(analysis.getAction()).contains("io.lettuce:lettuce-core").contains("store=local");
			});
	}

	@Test
	void everyBackendDisabledStartsWithOneWarning(CapturedOutput output) {
		this.runner.withPropertyValues("openai.lb.backends[0].enabled=false").run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(warnings(output, "every backend has enabled=false")).isOne();
		});
	}

	@ParameterizedTest
	@ValueSource(strings = { "api-key", "entra" })
	void aCredentialOverPlainHttpToAnotherHostIsWarnedAboutOnceWithoutTheSecret(String auth, CapturedOutput output) {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class))
			.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=http://gw.example.com/ai",
					"openai.lb.backends[0].auth=" + auth, "openai.lb.backends[1].name=local",
					"openai.lb.backends[1].url=http://127.0.0.1:8080", "openai.lb.backends[1].api-key=" + KEY,
					"openai.lb.backends[2].name=proxy", "openai.lb.backends[2].url=http://localhost:8081",
					"openai.lb.backends[2].auth=entra", "openai.lb.backends[3].name=tls",
					"openai.lb.backends[3].url=https://tls.example.com", "openai.lb.backends[3].api-key=" + KEY)
			.withPropertyValues(auth.equals("api-key") ? "openai.lb.backends[0].api-key=" + KEY : "unrelated=x")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(warnings(output, "over plain http://")).isOne();
				assertThat(output.getAll())
					.contains("backend 'a' sends its " + (auth.equals("api-key") ? "api key" : "Entra ID token")
							+ " over plain http:// to gw.example.com")
					.doesNotContain(KEY);
			});
	}

	@Test
	void notCheckedWhenTheApplicationBringsItsOwnEngine() {
		LoadBalancer own = LoadBalancer.builder(BalancerConfig.builder()
			.backend(new BalancerConfig.BackendBuilder().name("mine").url("https://mine.example.com"))
			.build()).build();
		this.runner.withPropertyValues("openai.lb.backends[0].wieght=3")
			.withBean(LoadBalancer.class, () -> own)
			.run((context) -> assertThat(context).hasNotFailed());
	}

	private static long warnings(CapturedOutput output, String text) {
		return output.getAll().lines().filter((line) -> line.contains("WARN") && line.contains(text)).count();
	}

	private static void environmentVariables(org.springframework.core.env.ConfigurableEnvironment environment,
			Map<String, Object> variables) {
		environment.getPropertySources()
			.replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, new SystemEnvironmentPropertySource(
					StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables));
	}

	/** The one analysis of the start-up failure, by the analyzers registered in spring.factories. */
	private static FailureAnalysis analysis(AssertableApplicationContext context) {
		assertThat(context).hasFailed();
		List<FailureAnalysis> analyses = StartUpErrorTests.analyzers()
			.stream()
			.map((analyzer) -> analyzer.analyze(context.getStartupFailure()))
			.filter((analysis) -> analysis != null)
			.toList();
		assertThat(analyses).hasSize(1);
		return analyses.get(0);
	}

}
