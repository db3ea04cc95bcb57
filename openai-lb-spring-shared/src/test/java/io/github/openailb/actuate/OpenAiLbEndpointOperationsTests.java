package io.github.openailb.actuate;

import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.context.ApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code openailb} endpoint's operations on both Boot lines, with the balanced client calling
 * loopback backends {@code a} (priority 1) and {@code b} (priority 2). The Boot 3 module's
 * {@code OpenAiLbEndpointTests} drive the same operations over HTTP, with the actuator's access rules.
 */
class OpenAiLbEndpointOperationsTests {

	@Test
	void disableEnableAndResetSteerTrafficAndShowInHealthAndMetrics() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues("management.endpoints.web.exposure.include=health,openailb")
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.run((context) -> {
					OpenAiLbEndpoint endpoint = context.getBean(OpenAiLbEndpoint.class);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(endpoint.backend("a")).containsEntry("name", "a")
						.containsEntry("state", io.github.openailb.core.BackendState.COOLING_DOWN);

					a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
					assertThat(status(endpoint.control("a", "reset"))).isEqualTo(200);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(2);

					WebEndpointResponse<Map<String, Object>> disabled = endpoint.control("a", " Disable ");
					assertThat(status(disabled)).isEqualTo(200);
					assertThat(disabled.getBody()).containsEntry("disabledBy", "operator");
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(2);
					assertThat(OpenAiLbHealthIndicatorTests.backend(context, "a")).containsEntry("state", "DISABLED")
						.containsEntry("disabledBy", "operator");
					assertThat(stateGauge(context, "a", "DISABLED")).isEqualTo(1);

					assertThat(status(endpoint.control("a", "enable"))).isEqualTo(200);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(3);
					assertThat(stateGauge(context, "a", "DISABLED")).isZero();
				});
		}
	}

	@Test
	@SuppressWarnings("unchecked")
	void aBackendShowsItsDeploymentsAndAResetClearsThem() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues("management.endpoints.web.exposure.include=health,openailb")
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("openai.lb.backends[0].deployments.gpt-4o=chat-a",
						"openai.lb.backends[0].deployments.emb=emb-a")
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withPropertyValues("openai.lb.backends[1].deployments.gpt-4o=chat-b")
				.run((context) -> {
					OpenAiLbEndpoint endpoint = context.getBean(OpenAiLbEndpoint.class);
					assertThat(LoopbackBackends.call(context, "gpt-4o")).isEqualTo(200);
					Map<String, Map<String, Object>> deployments = (Map<String, Map<String, Object>>) endpoint
						.backend("a")
						.get("deployments");
					assertThat(deployments.keySet()).containsExactly("gpt-4o", "emb");
					assertThat(deployments.get("gpt-4o")).containsEntry("name", "chat-a")
						.containsEntry("state", io.github.openailb.core.BackendState.COOLING_DOWN)
						.containsKey("coolingDownUntil");
					assertThat(deploymentGauge(context, "a", "gpt-4o", "COOLING_DOWN")).isOne();

					WebEndpointResponse<Map<String, Object>> reset = endpoint.control("a", "reset");
					assertThat(status(reset)).isEqualTo(200);
					assertThat(((Map<String, Map<String, Object>>) reset.getBody().get("deployments")).get("gpt-4o"))
						.containsEntry("state", io.github.openailb.core.BackendState.AVAILABLE)
						.doesNotContainKey("coolingDownUntil");
					assertThat(deploymentGauge(context, "a", "gpt-4o", "COOLING_DOWN")).isZero();
				});
		}
	}

	@Test
	void unknownNamesAndActionsAndAConfigurationDisableAreClearErrors() {
		LoopbackBackends.contextRunner()
			.withPropertyValues("management.endpoints.web.exposure.include=health,openailb")
			.withPropertyValues(LoopbackBackends.backend(0, "a", "http://localhost:1", 1))
			.withPropertyValues(LoopbackBackends.backend(1, "off", "http://localhost:2", 1))
			.withPropertyValues("openai.lb.backends[1].enabled=false")
			.run((context) -> {
				OpenAiLbEndpoint endpoint = context.getBean(OpenAiLbEndpoint.class);
				assertThat(endpoint.backend("nope")).isNull();
				assertThat(endpoint.backends()).containsOnlyKeys("backends", "statefulBackend");

				WebEndpointResponse<Map<String, Object>> unknownAction = endpoint.control("a", "drain\r\n");
				assertThat(status(unknownAction)).isEqualTo(400);
				assertThat(unknownAction.getBody().get("error").toString()).contains("unknown action 'drain")
					.contains("disable, enable, reset")
					.doesNotContain("\n");
				assertThat(status(endpoint.control("nope", "disable"))).isEqualTo(404);

				WebEndpointResponse<Map<String, Object>> forbidden = endpoint.control("off", "enable");
				assertThat(status(forbidden)).isEqualTo(409);
				assertThat(forbidden.getBody().get("error").toString()).contains("disabled in configuration");
				assertThat(endpoint.backend("off")).containsEntry("disabledBy", "configuration");
			});
	}

	private static int status(WebEndpointResponse<?> response) {
		return response.getStatus();
	}

	private static double deploymentGauge(ApplicationContext context, String backend, String model, String state) {
		return context.getBean(MeterRegistry.class)
			.get(OpenAiLbBackendStateMetrics.DEPLOYMENT_STATE)
			.tags("backend", backend, "deployment", model, "state", state)
			.gauge()
			.value();
	}

	private static double stateGauge(ApplicationContext context, String backend, String state) {
		return context.getBean(MeterRegistry.class)
			.get(OpenAiLbBackendStateMetrics.STATE)
			.tag("backend", backend)
			.tag("state", state)
			.gauge()
			.value();
	}

}
