package io.github.openailb.reliability;

import java.util.List;
import java.util.stream.Stream;

import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #9: bad configurations the auto-configuration tests do not already cover, each failing
 * start-up with one message, through the registered failure analyzer, that names the property
 * path and the fix, and never echoes the key.
 */
class StartUpErrorTests {

	private static final String KEY = "sk-start-up-secret-0123456789";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=https://a.openai.azure.com",
				"openai.lb.backends[0].api-key=" + KEY);

	static Stream<Arguments> badConfigurations() {
		return Stream.of(
				Arguments.of("openai.lb.backends[0].name= ", "openai.lb.backends[0].name", "unique name"),
				Arguments.of("openai.lb.backends[0].name=east us/1", "openai.lb.backends[0].name", "simple name"),
				Arguments.of("openai.lb.backends[0].url=https://a.example.com/?api-key=" + KEY,
						"openai.lb.backends[0].url", "no query string"),
				Arguments.of("openai.lb.backends[0].url=https://me:" + KEY + "@a.example.com",
						"openai.lb.backends[0].url", "base URL"),
				Arguments.of("openai.lb.backends[0].url=https://", "openai.lb.backends[0].url", "base URL"),
				Arguments.of("openai.lb.backends[0].url=http://a b.example.com", "openai.lb.backends[0].url",
						"base URL"),
				Arguments.of("openai.lb.backends[0].url=a.openai.azure.com", "openai.lb.backends[0].url", "base URL"),
				Arguments.of("openai.lb.backends[0].deployment=gpt 4o/../x", "openai.lb.backends[0].deployment",
						"deployment name"),
				Arguments.of("openai.lb.backends[0].priority=-3", "openai.lb.backends[0].priority", "1 for the"),
				Arguments.of("openai.lb.backends[0].weight=0", "openai.lb.backends[0].weight", "positive weight"),
				Arguments.of("openai.lb.connect-timeout=-1s", "openai.lb.connect-timeout", "positive duration"),
				Arguments.of("openai.lb.connect-timeout=0s", "openai.lb.connect-timeout", "positive duration"),
				Arguments.of("openai.lb.response-timeout=-200ms", "openai.lb.response-timeout", "positive duration"),
				Arguments.of("openai.lb.response-timeout=0ms", "openai.lb.response-timeout", "positive duration"),
				Arguments.of("openai.lb.max-cool-down=0s", "openai.lb.max-cool-down", "positive duration"),
				Arguments.of("openai.lb.max-duration=0s", "openai.lb.max-duration", "positive duration"),
				Arguments.of("openai.lb.pool.max-connections=0", "openai.lb.pool.max-connections", "most connections"),
				Arguments.of("openai.lb.pool.max-pending-acquires=0", "openai.lb.pool.max-pending-acquires",
						"fails over at once"),
				Arguments.of("openai.lb.max-request-body=0B", "openai.lb.max-request-body", "largest request"),
				Arguments.of("openai.lb.max-request-body=4GB", "openai.lb.max-request-body", "largest request"),
				Arguments.of("openai.lb.stateful.backend=nowhere", "openai.lb.stateful.backend", "one of a,"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("badConfigurations")
	void failsWithOneMessageNamingThePropertyAndTheFix(String property, String path, String fix) {
		this.runner.withPropertyValues(property).run((context) -> {
			assertThat(context).hasFailed();
			List<FailureAnalysis> analyses = analyzers().stream()
				.map((analyzer) -> analyzer.analyze(context.getStartupFailure()))
				.filter((analysis) -> analysis != null)
				.toList();
			assertThat(analyses).hasSize(1);
			FailureAnalysis analysis = analyses.get(0);
			assertThat(analysis.getDescription()).contains(path);
			assertThat(analysis.getAction()).contains(path).contains(fix);
			assertThat(analysis.getDescription() + analysis.getAction()).doesNotContain(KEY);
		});
	}

	@Test
	void redisStoreWithoutSpringDataRedisFailsInsteadOfStayingLocal() {
		this.runner.withPropertyValues("openai.lb.state.store=redis")
			.withClassLoader(new FilteredClassLoader("org.springframework.data.redis"))
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = analyzers().stream()
					.map((analyzer) -> analyzer.analyze(context.getStartupFailure()))
					.filter((candidate) -> candidate != null)
					.findFirst()
					.orElseThrow();
				assertThat(analysis.getDescription()).contains("openai.lb.state.store");
				assertThat(analysis.getAction()).contains("spring-boot-starter-data-redis");
			});
	}

	/** The analyzers Spring Boot would consult: those registered in spring.factories. */
	static List<FailureAnalyzer> analyzers() {
		return SpringFactoriesLoader.forDefaultResourceLocation(StartUpErrorTests.class.getClassLoader())
			// Boot's own analyzers need constructor arguments: only ours matter here
			.load(FailureAnalyzer.class, null, (type, name, failure) -> {
			})
			.stream()
			.filter((analyzer) -> analyzer.getClass().getName().startsWith("io.github.openailb"))
			.toList();
	}

}
