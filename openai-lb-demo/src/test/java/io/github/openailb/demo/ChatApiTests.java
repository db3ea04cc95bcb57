package io.github.openailb.demo;

import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chat API over the default simulator.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ChatApiTests {

	private final ObjectMapper json = new ObjectMapper();

	@LocalServerPort
	int port;

	@Test
	void callAnswersWithTheReply() throws Exception {
		HttpResponse<String> response = Http.chat(this.port, "{\"message\": \"What is a PTU?\"}");
		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode body = this.json.readTree(response.body());
		assertThat(body.path("reply").asText()).startsWith("Hello from ptu!").contains("What is a PTU?");
	}

	@Test
	void streamSendsTheReplyInChunks() throws Exception {
		HttpResponse<String> response = Http.stream(this.port, "streaming");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("text/event-stream"));
		StringBuilder reply = new StringBuilder();
		int chunks = 0;
		for (String line : response.body().split("\n")) {
			if (line.startsWith("data:")) {
				reply.append(line.substring(5));
				chunks++;
			}
		}
		assertThat(chunks).isGreaterThan(3);
		assertThat(reply.toString()).startsWith("Hello from ").contains("You asked: \"streaming\"");
		assertThat(response.body()).doesNotContain("[DONE]").doesNotContain("event:error");
	}

	@Test
	void emptyMessageIsABadRequest() throws Exception {
		HttpResponse<String> response = Http.chat(this.port, "{}");
		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(this.json.readTree(response.body()).path("error").asText()).isEqualTo("bad_request");
	}

	@Test
	void backendsViewListsTheSimulatedInstances() throws Exception {
		HttpResponse<String> response = Http.get(this.port, "/api/backends");
		JsonNode backends = this.json.readTree(response.body()).path("backends");
		assertThat(backends).hasSize(3);
		assertThat(backends.path(0).path("name").asText()).isEqualTo("ptu");
		assertThat(backends.path(0).path("host").asText()).startsWith("127.0.0.1:");
		assertThat(backends.path(1).path("priority").asInt()).isEqualTo(2);
	}

	@Test
	void embeddingsAreAnswered() throws Exception {
		HttpResponse<String> response = Http.embed(this.port, "{\"text\": \"a load balancer\"}");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(this.json.readTree(response.body()).path("dimensions").asInt()).isEqualTo(8);
		assertThat(Http.embed(this.port, "{}").statusCode()).isEqualTo(400);
	}

	@Test
	void aBurstMixesEmbeddingsIn() throws Exception {
		HttpResponse<String> response = Http.post(this.port, "/api/burst?count=10&concurrency=5&embeddings=50");
		JsonNode report = this.json.readTree(response.body());
		assertThat(report.path("embeddings").asInt()).isEqualTo(5);
		assertThat(report.path("answered").asInt()).isEqualTo(10);
		JsonNode ptu = this.json.readTree(Http.get(this.port, "/api/backends").body()).path("backends").path(0);
		assertThat(ptu.path("deployments").path(1).path("successes").asLong()).isGreaterThanOrEqualTo(5);
	}

	@Test
	void backendsViewListsEachInstancesDeployments() throws Exception {
		JsonNode backends = this.json.readTree(Http.get(this.port, "/api/backends").body()).path("backends");
		JsonNode ptu = backends.path(0).path("deployments");
		assertThat(ptu).hasSize(2);
		assertThat(ptu.path(0).path("model").asText()).isEqualTo("gpt-4o-mini");
		assertThat(ptu.path(0).path("name").asText()).isEqualTo("gpt-4o-mini-ptu");
		assertThat(ptu.path(1).path("model").asText()).isEqualTo("text-embedding-3-small");
		assertThat(ptu.path(1).path("name").asText()).isEqualTo("emb-small-eastus");
		assertThat(ptu.path(1).path("state").asText()).isEqualTo("AVAILABLE");
		// paygo-2 has no embeddings deployment
		assertThat(backends.path(2).path("name").asText()).isEqualTo("paygo-2");
		assertThat(backends.path(2).path("deployments")).hasSize(1);
	}

	@Test
	void healthAndMetricsAreExposed() throws Exception {
		HttpResponse<String> health = Http.get(this.port, "/actuator/health");
		assertThat(health.statusCode()).isEqualTo(200);
		assertThat(health.body()).contains("\"status\":\"UP\"").doesNotContain("simulated-key");
		assertThat(Http.get(this.port, "/actuator/metrics").statusCode()).isEqualTo(200);
	}

}
