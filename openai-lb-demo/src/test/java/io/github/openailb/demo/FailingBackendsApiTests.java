package io.github.openailb.demo;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every simulated instance answers 500: the API answers 502 with a short JSON error.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "demo.simulator.instances.ptu.error-rate=1", "demo.simulator.instances.paygo-1.error-rate=1",
				"demo.simulator.instances.paygo-2.error-rate=1", "demo.simulator.instances.ptu.latency=0ms",
				"demo.simulator.instances.paygo-1.latency=0ms", "demo.simulator.instances.paygo-2.latency=0ms" })
class FailingBackendsApiTests {

	private final ObjectMapper json = new ObjectMapper();

	@LocalServerPort
	int port;

	@Test
	void everyBackendFailingAnswers502WithoutStackTrace() throws Exception {
		assertBadGateway(Http.chat(this.port, "{\"message\": \"hello\"}"));
		assertBadGateway(Http.stream(this.port, "hello"));
	}

	private void assertBadGateway(HttpResponse<String> response) throws Exception {
		assertThat(response.statusCode()).isEqualTo(502);
		JsonNode body = this.json.readTree(response.body());
		assertThat(body.path("error").asText()).isEqualTo("bad_gateway");
		assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ");
	}

}
