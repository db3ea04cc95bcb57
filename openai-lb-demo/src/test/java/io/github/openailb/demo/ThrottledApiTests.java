package io.github.openailb.demo;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every simulated instance allows one request a minute: after three calls every backend is
 * throttled and the API answers 429 with the balancer's Retry-After.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "demo.simulator.instances.ptu.requests-per-minute=1",
				"demo.simulator.instances.paygo-1.requests-per-minute=1",
				"demo.simulator.instances.paygo-2.requests-per-minute=1" })
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
