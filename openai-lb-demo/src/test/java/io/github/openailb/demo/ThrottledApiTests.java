package io.github.openailb.demo;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every simulated instance's chat deployment allows one request a minute: after three calls every
 * backend is throttled for chat and the API answers 429 with the balancer's Retry-After, while the
 * embeddings deployments, each with its own budget, keep answering.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "demo.simulator.instances.ptu.deployments.gpt-4o-mini.requests-per-minute=1",
				"demo.simulator.instances.paygo-1.deployments.gpt-4o-mini.requests-per-minute=1",
				"demo.simulator.instances.paygo-2.deployments.gpt-4o-mini.requests-per-minute=1" })
class ThrottledApiTests {

	private final ObjectMapper json = new ObjectMapper();

	@LocalServerPort
	int port;

	@Test
	void everyBackendThrottledAnswers429WithRetryAfter() throws Exception {
		for (int i = 0; i < 3; i++) {
			assertThat(Http.chat(this.port, "{\"message\": \"use up the budget\"}").statusCode()).isEqualTo(200);
		}
		HttpResponse<String> call = Http.chat(this.port, "{\"message\": \"one too many\"}");
		assertThrottled(call);
		HttpResponse<String> stream = Http.stream(this.port, "one-too-many");
		assertThrottled(stream);
	}

	@Test
	void embeddingsAreAnsweredWhileEveryChatDeploymentIsThrottled() throws Exception {
		for (int i = 0; i < 3; i++) {
			// the other test may have used up the chat budgets already
			Http.chat(this.port, "{\"message\": \"use up the budget\"}");
		}
		assertThrottled(Http.chat(this.port, "{\"message\": \"one too many\"}"));
		// each deployment has its own budget: the instances' embeddings deployments still answer
		assertThat(Http.embed(this.port, "{\"text\": \"still served\"}").statusCode()).isEqualTo(200);
		JsonNode ptu = this.json.readTree(Http.get(this.port, "/api/backends").body()).path("backends").path(0);
		assertThat(ptu.path("state").asText()).isEqualTo("AVAILABLE");
		assertThat(ptu.path("deployments").path(0).path("state").asText()).isEqualTo("COOLING_DOWN");
		assertThat(ptu.path("deployments").path(1).path("state").asText()).isEqualTo("AVAILABLE");
		assertThat(ptu.path("deployments").path(1).path("successes").asLong()).isEqualTo(1);
	}

	private void assertThrottled(HttpResponse<String> response) throws Exception {
		assertThat(response.statusCode()).isEqualTo(429);
		long retryAfter = Long.parseLong(response.headers().firstValue("Retry-After").orElseThrow());
		assertThat(retryAfter).isBetween(1L, 60L);
		JsonNode body = this.json.readTree(response.body());
		assertThat(body.path("error").asText()).isEqualTo("throttled");
		assertThat(body.path("retryAfterSeconds").asLong()).isEqualTo(retryAfter);
		assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ");
	}

}
