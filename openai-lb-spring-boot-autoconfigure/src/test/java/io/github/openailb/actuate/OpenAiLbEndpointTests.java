package io.github.openailb.actuate;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.github.openailb.autoconfigure.OpenAiLbActuatorAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.testsupport.BootLine;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.autoconfigure.endpoint.jackson.JacksonEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.web.WebEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.reactive.ReactiveManagementContextAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.server.ManagementContextAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.http.codec.CodecsAutoConfiguration;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.HttpHandlerAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.ReactiveWebServerFactoryAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.WebFluxAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.error.ErrorWebFluxAutoConfiguration;
import org.springframework.boot.test.context.assertj.ApplicationContextAssertProvider;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.boot.web.reactive.context.AnnotationConfigReactiveWebServerApplicationContext;
import org.springframework.context.ApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code openailb} actuator endpoint over real HTTP, in an application with a web server and
 * two loopback backends: {@code a} (priority 1) and {@code b} (priority 2). Boot 3 line only: this
 * module's test classpath has a reactive web server (Reactor Netty) without extra dependencies;
 * the shared {@code OpenAiLbEndpointOperationsTests} cover the endpoint's operations on both lines.
 */
class OpenAiLbEndpointTests {

	private static final String UNRESTRICTED = "management.endpoint.openailb.access=UNRESTRICTED";

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private final ObjectMapper json = new ObjectMapper();

	private final LoopbackBackends backends = new LoopbackBackends();

	private WireMockServer a;

	private WireMockServer b;

	@BeforeEach
	void start() {
		this.a = this.backends.start();
		this.b = this.backends.start();
		this.a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
	}

	@AfterEach
	void stop() {
		this.backends.close();
	}

	@Test
	void listsEveryBackendAndOneByNameWithoutSecrets() {
		app().run((context) -> {
			Answer all = read(context, "/actuator/openailb");
			assertThat(all.status()).isEqualTo(200);
			assertThat(all.body()).doesNotContain(LoopbackBackends.SECRET).doesNotContain("/prefix");
			assertThat(backendIn(all, "a")).containsEntry("state", "AVAILABLE")
				.containsEntry("host", "localhost:" + this.a.port())
				.containsEntry("priority", 1);
			assertThat(backendIn(all, "b")).containsEntry("priority", 2);
			Answer one = read(context, "/actuator/openailb/b");
			assertThat(one.status()).isEqualTo(200);
			assertThat(one.map()).containsEntry("name", "b").containsEntry("state", "AVAILABLE");
			assertThat(read(context, "/actuator/openailb/nope").status()).isEqualTo(404);
		});
	}

	@Test
	@SuppressWarnings("unchecked")
	void showsEachDeploymentOfABackendAndAResetClearsThem() {
		this.a.stubFor(post(urlPathMatching(".*/chat-a/.*"))
			.willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
		app(UNRESTRICTED, "openai.lb.backends[0].deployments.gpt-4o=chat-a",
				"openai.lb.backends[0].deployments.emb=emb-a", "openai.lb.backends[1].deployments.gpt-4o=chat-b")
			.run((context) -> {
				assertThat(LoopbackBackends.call(context, "gpt-4o")).isEqualTo(200);
				Answer one = read(context, "/actuator/openailb/a");
				assertThat(one.status()).isEqualTo(200);
				assertThat(one.map()).containsEntry("state", "AVAILABLE");
				Map<String, Map<String, Object>> deployments = (Map<String, Map<String, Object>>) one.map()
					.get("deployments");
				assertThat(deployments.keySet()).containsExactly("gpt-4o", "emb");
				assertThat(deployments.get("gpt-4o")).containsEntry("name", "chat-a")
					.containsEntry("state", "COOLING_DOWN")
					.containsKey("coolingDownUntil");
				assertThat(deployments.get("emb")).isEqualTo(Map.of("name", "emb-a", "state", "AVAILABLE"));
				assertThat(backendIn(read(context, "/actuator/openailb"), "b")).containsEntry("deployments",
						Map.of("gpt-4o", Map.of("name", "chat-b", "state", "AVAILABLE")));

				Answer reset = write(context, "/actuator/openailb/a", "{\"action\":\"reset\"}");
				assertThat(reset.status()).isEqualTo(200);
				assertThat(((Map<String, Map<String, Object>>) reset.map().get("deployments")).get("gpt-4o"))
					.isEqualTo(Map.of("name", "chat-a", "state", "AVAILABLE"));
			});
	}

	@Test
	void writesAreRefusedUntilAccessIsUnrestricted() {
		app().run((context) -> {
			Answer refused = write(context, "/actuator/openailb/a", "{\"action\":\"disable\"}");
			assertThat(refused.status()).isIn(404, 405);
			assertThat(read(context, "/actuator/openailb/a").map()).containsEntry("state", "AVAILABLE");
			assertThat(LoopbackBackends.call(context)).isEqualTo(200);
			assertThat(this.a.getAllServeEvents()).hasSize(1);
		});
	}

	@Test
	void disableTakesTheBackendOutOfRotationAndEnableBringsItBack() {
		app(UNRESTRICTED).run((context) -> {
			Answer disabled = write(context, "/actuator/openailb/a", "{\"action\":\"disable\"}");
			assertThat(disabled.status()).isEqualTo(200);
			assertThat(disabled.map()).containsEntry("name", "a")
				.containsEntry("state", "DISABLED")
				.containsEntry("disabledBy", "operator");
			for (int i = 0; i < 3; i++) {
				assertThat(LoopbackBackends.call(context)).isEqualTo(200);
			}
			assertThat(this.a.getAllServeEvents()).isEmpty();
			assertThat(this.b.getAllServeEvents()).hasSize(3);
			assertThat(OpenAiLbHealthIndicatorTests.backend(context, "a")).containsEntry("state", "DISABLED");
			assertThat(stateGauge(context, "a", "DISABLED")).isEqualTo(1);

			Answer enabled = write(context, "/actuator/openailb/a", "{\"action\":\"enable\"}");
			assertThat(enabled.status()).isEqualTo(200);
			assertThat(enabled.map()).containsEntry("state", "AVAILABLE").doesNotContainKey("disabledBy");
			assertThat(LoopbackBackends.call(context)).isEqualTo(200);
			assertThat(this.a.getAllServeEvents()).hasSize(1);
			assertThat(stateGauge(context, "a", "DISABLED")).isZero();
		});
	}

	@Test
	void resetEndsACoolDownSoTheBackendTakesTrafficAtOnce() {
		this.a.stubFor(post(anyUrl()).inScenario("throttle")
			.whenScenarioStateIs(Scenario.STARTED)
			.willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60"))
			.willSetStateTo("answering"));
		this.a.stubFor(post(anyUrl()).inScenario("throttle").whenScenarioStateIs("answering").willReturn(okJson("{}")));
		app(UNRESTRICTED).run((context) -> {
			assertThat(LoopbackBackends.call(context)).isEqualTo(200);
			assertThat(LoopbackBackends.call(context)).isEqualTo(200);
			assertThat(this.a.getAllServeEvents()).hasSize(1);
			assertThat(read(context, "/actuator/openailb/a").map()).containsEntry("state", "COOLING_DOWN")
				.containsKey("coolingDownUntil");

			Answer reset = write(context, "/actuator/openailb/a", "{\"action\":\"reset\"}");
			assertThat(reset.status()).isEqualTo(200);
			assertThat(reset.map()).containsEntry("state", "AVAILABLE")
				.containsEntry("circuitBreaker", "CLOSED")
				.doesNotContainKey("coolingDownUntil");
			assertThat(LoopbackBackends.call(context)).isEqualTo(200);
			assertThat(this.a.getAllServeEvents()).hasSize(2);
			assertThat(this.b.getAllServeEvents()).hasSize(2);
		});
	}

	@Test
	void anUnknownActionOrBackendAndAnEnableThatConfigurationForbidsAreClearErrors() {
		app(UNRESTRICTED, "openai.lb.backends[2].name=off", "openai.lb.backends[2].url=http://localhost:1",
				"openai.lb.backends[2].enabled=false")
			.run((context) -> {
				Answer unknownAction = write(context, "/actuator/openailb/a", "{\"action\":\"drain\"}");
				assertThat(unknownAction.status()).isEqualTo(400);
				assertThat(unknownAction.body()).contains("unknown action 'drain'", "disable, enable, reset");
				assertThat(write(context, "/actuator/openailb/a", "{}").status()).isEqualTo(400);

				Answer unknownBackend = write(context, "/actuator/openailb/nope", "{\"action\":\"disable\"}");
				assertThat(unknownBackend.status()).isEqualTo(404);
				assertThat(unknownBackend.body()).contains("no backend is named 'nope'");

				Answer forbidden = write(context, "/actuator/openailb/off", "{\"action\":\"enable\"}");
				assertThat(forbidden.status()).isEqualTo(409);
				assertThat(forbidden.body()).contains("disabled in configuration");
				assertThat(read(context, "/actuator/openailb/off").map()).containsEntry("state", "DISABLED")
					.containsEntry("disabledBy", "configuration");
				assertThat(read(context, "/actuator/openailb/a").map()).containsEntry("state", "AVAILABLE");
			});
	}

	/** An actuator application on a web server, exposing the endpoint, over backends a and b. */
	private ReactiveWebApplicationContextRunner app(String... properties) {
		return new ReactiveWebApplicationContextRunner(AnnotationConfigReactiveWebServerApplicationContext::new)
			.withConfiguration(AutoConfigurations.of(ReactiveWebServerFactoryAutoConfiguration.class,
					HttpHandlerAutoConfiguration.class, WebFluxAutoConfiguration.class,
					ErrorWebFluxAutoConfiguration.class, CodecsAutoConfiguration.class, JacksonAutoConfiguration.class,
					JacksonEndpointAutoConfiguration.class, WebEndpointAutoConfiguration.class,
					ManagementContextAutoConfiguration.class, ReactiveManagementContextAutoConfiguration.class))
			.withPropertyValues("server.address=127.0.0.1", "server.port=0")
			.withConfiguration(AutoConfigurations.of(BootLine.ACTUATOR))
			.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
					OpenAiLbClientsAutoConfiguration.class, OpenAiLbActuatorAutoConfiguration.class))
			.withPropertyValues("management.endpoints.web.exposure.include=health,openailb",
					"management.endpoint.health.show-details=always")
			.withPropertyValues(LoopbackBackends.backend(0, "a", this.a, 1))
			.withPropertyValues(LoopbackBackends.backend(1, "b", this.b, 2))
			.withPropertyValues(properties);
	}

	private Answer read(ApplicationContext context, String path) throws IOException, InterruptedException {
		return send(HttpRequest.newBuilder(uri(context, path)).GET());
	}

	private Answer write(ApplicationContext context, String path, String body)
			throws IOException, InterruptedException {
		return send(HttpRequest.newBuilder(uri(context, path))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body)));
	}

	private Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
		HttpResponse<String> response = this.http.send(request.timeout(Duration.ofSeconds(10)).build(),
				HttpResponse.BodyHandlers.ofString());
		return new Answer(response.statusCode(), response.body(), this.json);
	}

	private static URI uri(ApplicationContext context, String path) {
		ApplicationContext source = (context instanceof ApplicationContextAssertProvider<?> provider)
				? provider.getSourceApplicationContext() : context;
		int port = ((WebServerApplicationContext) source).getWebServer().getPort();
		return URI.create("http://127.0.0.1:" + port + path);
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> backendIn(Answer all, String name) throws IOException {
		return ((Map<String, Map<String, Object>>) all.map().get("backends")).get(name);
	}

	private static double stateGauge(ApplicationContext context, String backend, String state) {
		return context.getBean(MeterRegistry.class)
			.get(OpenAiLbBackendStateMetrics.STATE)
			.tag("backend", backend)
			.tag("state", state)
			.gauge()
			.value();
	}

	/** What the endpoint answered. */
	private record Answer(int status, String body, ObjectMapper json) {

		@SuppressWarnings("unchecked")
		Map<String, Object> map() throws IOException {
			return this.json.readValue(this.body, Map.class);
		}

	}

}
