package io.github.openailb.autoconfigure;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.AnnotationAwareOrderComparator;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A failure to bind {@code openai.lb.*} is reported by property name, origin and fix, before Spring
 * Boot's own bind analyzers, which would print each value (the api key) into the start-up log.
 */
@ExtendWith(OutputCaptureExtension.class)
class PropertiesBindFailureAnalyzerTests {

	private static final String KEY_A = "sk-first-source-0123456789";

	private static final String KEY_B = "sk-second-source-9876543210";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=https://a.openai.azure.com",
				"openai.lb.backends[0].api-key=" + KEY_A);

	@Test
	void listEntriesSplitBetweenTwoSourcesAreNamedWithoutTheirKeys() {
		// e.g. backends in application.yml, one key from an environment variable OPENAI_LB_BACKENDS_1_API_KEY
		this.runner
			.withPropertyValues("openai.lb.backends[1].name=b", "openai.lb.backends[1].url=https://b.openai.azure.com")
			.withInitializer((context) -> context.getEnvironment()
				.getPropertySources()
				.addFirst(new MapPropertySource("override", Map.of("openai.lb.backends[1].api-key", KEY_B))))
			.run((context) -> {
				assertThat(context).hasFailed();
				List<FailureAnalysis> analyses = analyses(context.getStartupFailure());
				FailureAnalysis first = analyses.get(0);
				// the start-up check names the entry left out and where it came from
				assertThat(first.getDescription()).contains("openai.lb.backends[1].api-key")
					.contains("property source \"override\"")
					.doesNotContain(KEY_A, KEY_B);
				assertThat(first.getAction()).contains("openai.lb.backends", "one property source");
			});
	}

	@Test
	void aValueThatDoesNotConvertIsNamedWithoutTheValue() {
		this.runner.withPropertyValues("openai.lb.backends[0].weight=" + KEY_B).run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = analyses(context.getStartupFailure()).get(0);
			assertThat(analysis.getDescription()).contains("openai.lb.backends[0].weight", "whole number")
				.doesNotContain(KEY_A, KEY_B);
			assertThat(analysis.getAction()).contains("openai.lb.backends[0].weight").doesNotContain(KEY_B);
		});
	}

	@Test
	void aBindFailureOutsideTheStartUpCheckIsNamedWithoutTheValue() {
		// e.g. when the application defines its own engine, the start-up check stands aside and Boot binds alone
		BindException failure = catchThrowableOfType(BindException.class,
				() -> new Binder(new MapConfigurationPropertySource(Map.of("openai.lb.backends[0].weight", KEY_B)))
					.bind("openai.lb", OpenAiLbProperties.class));
		FailureAnalysis analysis = new PropertiesBindFailureAnalyzer().analyze(failure);
		assertThat(analysis.getDescription()).contains("openai.lb.backends[0].weight", "bound to int")
			.doesNotContain(KEY_B);
		assertThat(analysis.getAction()).contains("openai.lb.backends[0].weight").doesNotContain(KEY_B);
		// ours comes first, so Spring Boot reports it rather than its own, which quotes the value
		assertThat(analyses(failure).get(0).getDescription()).isEqualTo(analysis.getDescription());
	}

	@Test
	void otherPropertiesAreLeftToSpringBoot() {
		BindException failure = catchThrowableOfType(BindException.class,
				() -> new Binder(new MapConfigurationPropertySource(Map.of("server.port", "http")))
					.bind("server.port", Integer.class));
		assertThat(new PropertiesBindFailureAnalyzer().analyze(failure)).isNull();
	}

	@Test
	void theStartUpReportInTheLogHoldsNoKey(CapturedOutput output) {
		SpringApplicationBuilder application = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.properties("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=https://a.openai.azure.com",
					"openai.lb.backends[0].api-key=" + KEY_A, "openai.lb.backends[1].name=b",
					"openai.lb.backends[1].url=https://b.openai.azure.com");
		// an application left open by another test would keep logging bound to an old System.out
		LoggingSystem.get(getClass().getClassLoader()).cleanUp();
		// the command line overrides one key: Spring Boot binds the list from there, and leaves it unbound
		assertThatException().isThrownBy(() -> application.run("--openai.lb.backends[1].api-key=" + KEY_B));
		assertThat(output).contains("APPLICATION FAILED TO START", "openai.lb.backends[1].api-key")
			.doesNotContain(KEY_A, KEY_B);
	}

	/** What Spring Boot would report: every registered analyzer, in order, that has something to say. */
	private static List<FailureAnalysis> analyses(Throwable failure) {
		List<FailureAnalyzer> analyzers = new java.util.ArrayList<>(
				SpringFactoriesLoader.forDefaultResourceLocation(PropertiesBindFailureAnalyzerTests.class.getClassLoader())
					// analyzers that need constructor arguments are not the ones in question
					.load(FailureAnalyzer.class, null, (type, name, ex) -> {
					}));
		AnnotationAwareOrderComparator.sort(analyzers);
		return analyzers.stream().map((analyzer) -> analyzer.analyze(failure)).filter(Objects::nonNull).toList();
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration(OpenAiLbAutoConfiguration.class)
	static class App {

	}

}
