package io.github.openailb.actuate;

import io.github.openailb.testsupport.BootLine;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

@ExtendWith(OutputCaptureExtension.class)
class NoSecretsTests {

	private final LoggingSystem logging = LoggingSystem.get(getClass().getClassLoader());

	private LogLevel configured;

	@BeforeEach
	void logEveryAttempt() {
		this.configured = this.logging.getLoggerConfiguration("io.github.openailb").getConfiguredLevel();
		this.logging.setLogLevel("io.github.openailb", LogLevel.DEBUG);
	}

	/** Back to the test configuration's level (INFO), not to the root's: later tests read INFO lines. */
	@AfterEach
	void restoreLogLevel() {
		this.logging.setLogLevel("io.github.openailb", this.configured);
	}

	@Test
	void keysNeverShowInLogsHealthMetricsOrErrors(CapturedOutput output) {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer unauthorized = backends.start();
			WireMockServer failing = backends.start();
			WireMockServer throttled = backends.start();
			WireMockServer fine = backends.start();
			WireMockServer gone = backends.start();
			String goneUrl = gone.baseUrl();
			gone.stop();
			unauthorized.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(401)));
			failing.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503).withHeader("Retry-After", "5")));
			throttled.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "5")));
			fine.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "gone", goneUrl, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "unauthorized", unauthorized, 2))
				.withPropertyValues(LoopbackBackends.backend(2, "failing", failing, 3))
				.withPropertyValues(LoopbackBackends.backend(3, "throttled", throttled, 4))
				.withPropertyValues(LoopbackBackends.backend(4, "fine", fine, 5))
				.run((context) -> {
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					fine.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "5")));
					// every backend is now cooling down, unreachable or misconfigured
					assertThat(LoopbackBackends.call(context)).isIn(401, 429);
					String health = new ObjectMapper()
						.writeValueAsString(BootLine.healthEndpoint(context, "openAiLb"));
					StringBuilder meters = new StringBuilder();
					for (Meter meter : context.getBean(MeterRegistry.class).getMeters()) {
						meters.append(meter.getId()).append('\n');
					}
					assertThat(output).contains("openai-lb: backend 'throttled' answered 429")
						.contains("openai-lb: attempt 1 goes to backend 'gone'")
						.doesNotContain(LoopbackBackends.SECRET)
						.doesNotContain("api-version");
					assertThat(health).contains("\"unauthorized\"").doesNotContain(LoopbackBackends.SECRET)
						.doesNotContain("/prefix")
						.doesNotContain("api-version");
					assertThat(meters).contains("backend=fine").doesNotContain(LoopbackBackends.SECRET);
				});
		}
	}

	@Test
	void keysNeverShowInTheErrorWhenNoBackendAnswers(CapturedOutput output) {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer gone = backends.start();
			String goneUrl = gone.baseUrl();
			gone.stop();
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "gone", goneUrl, 1))
				.run((context) -> {
					Throwable error = catchThrowable(() -> LoopbackBackends.call(context));
					assertThat(error).isNotNull();
					StringBuilder messages = new StringBuilder();
					for (Throwable cause = error; cause != null; cause = cause.getCause()) {
						messages.append(cause).append('\n');
					}
					assertThat(messages).contains("gone").doesNotContain(LoopbackBackends.SECRET);
					assertThat(output).contains("openai-lb: the request ends FAILED (gone: ")
						.doesNotContain(LoopbackBackends.SECRET);
				});
		}
	}

}
