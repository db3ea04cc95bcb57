package io.github.openailb.core;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link RequestTarget}: where an attempt goes and what body it carries.
 */
class RequestTargetTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	@Test
	void pathAndQueryAreAppendedToTheBaseUrl() {
		assertThat(RequestTarget.uri(backend("https://oai.example.com", null), CHAT))
			.hasToString("https://oai.example.com" + CHAT);
	}

	@Test
	void pathPrefixIsKept() {
		assertThat(RequestTarget.uri(backend("https://gw.example.com/ai/", null), CHAT))
			.hasToString("https://gw.example.com/ai" + CHAT);
		assertThat(RequestTarget.uri(backend("http://localhost:8080/ai", null), "/openai/v1/models"))
			.hasToString("http://localhost:8080/ai/openai/v1/models");
	}

	@Test
	void missingLeadingSlashIsAdded() {
		assertThat(RequestTarget.uri(backend("https://gw.example.com/ai", null), "openai/v1/models"))
			.hasToString("https://gw.example.com/ai/openai/v1/models");
		assertThat(RequestTarget.uri(backend("https://gw.example.com/ai", null), ""))
			.hasToString("https://gw.example.com/ai");
	}

	@Test
	void deploymentIsRewrittenInThePathAndTheQueryIsUntouched() {
		String query = "?api-version=2024-10-21&x=a%2Fb%20c&y=%E2%9C%93";
		assertThat(RequestTarget.uri(backend("https://gw.example.com/ai", "gpt-4o-eu"),
				"/openai/deployments/gpt-4o/chat/completions" + query))
			.hasToString("https://gw.example.com/ai/openai/deployments/gpt-4o-eu/chat/completions" + query);
	}

	@Test
	void deploymentAtTheEndOfThePathIsRewritten() {
		assertThat(RequestTarget.uri(backend("https://oai.example.com", "east"), "/openai/deployments/west"))
			.hasToString("https://oai.example.com/openai/deployments/east");
		assertThat(RequestTarget.uri(backend("https://oai.example.com", "east"), "/openai/deployments/west?v=1"))
			.hasToString("https://oai.example.com/openai/deployments/east?v=1");
	}

	@Test
	void deploymentNamedOnlyInTheQueryIsNotRewritten() {
		String pathAndQuery = "/openai/v1/chat/completions?next=/openai/deployments/west/x";
		assertThat(RequestTarget.uri(backend("https://oai.example.com", "east"), pathAndQuery))
			.hasToString("https://oai.example.com" + pathAndQuery);
	}

	@Test
	void withoutDeploymentThePathIsKept() {
		assertThat(RequestTarget.uri(backend("https://oai.example.com", null), CHAT))
			.hasToString("https://oai.example.com" + CHAT);
	}

	@Test
	void modelOfAJsonBodyIsRewrittenForTheV1Api() throws Exception {
		byte[] body = json("{\"model\":\"gpt-4o\",\"temperature\":0.5,\"messages\":[{\"role\":\"user\","
				+ "\"content\":\"hi\",\"model\":\"nested\"}],\"metadata\":{\"model\":\"inner\"},\"stream\":true}");
		byte[] sent = RequestTarget.body(backend("https://oai.example.com", "gpt-4o-eu"), "/openai/v1/chat/completions",
				body);
		JsonNode tree = new ObjectMapper().readTree(sent);
		assertThat(tree.get("model").asText()).isEqualTo("gpt-4o-eu");
		assertThat(tree.at("/messages/0/model").asText()).isEqualTo("nested");
		assertThat(tree.at("/messages/0/content").asText()).isEqualTo("hi");
		assertThat(tree.at("/metadata/model").asText()).isEqualTo("inner");
		assertThat(tree.get("temperature").asDouble()).isEqualTo(0.5);
		assertThat(tree.get("stream").asBoolean()).isTrue();
		assertThat(tree.fieldNames()).toIterable()
			.containsExactly("model", "temperature", "messages", "metadata", "stream");
	}

	@Test
	void modelIsRewrittenWhenOnlyTheQueryNamesADeploymentsPath() throws Exception {
		byte[] sent = RequestTarget.body(backend("https://oai.example.com", "gpt-4o-eu"),
				"/openai/v1/chat/completions?next=/openai/deployments/west/x", json("{\"model\":\"gpt-4o\"}"));
		assertThat(new ObjectMapper().readTree(sent).get("model").asText()).isEqualTo("gpt-4o-eu");
	}

	@Test
	void modelOfAPrettyPrintedBodyIsRewritten() throws Exception {
		byte[] sent = RequestTarget.body(backend("https://oai.example.com", "gpt-4o-eu"), "/openai/v1/chat/completions",
				json("\n  {\n  \"model\": \"gpt-4o\"\n}\n"));
		assertThat(new ObjectMapper().readTree(sent).get("model").asText()).isEqualTo("gpt-4o-eu");
	}

	@Test
	void bodyIsUntouchedOnADeploymentsPathWithQuery() {
		byte[] body = json("{\"model\":\"gpt-4o\"}");
		assertThat(RequestTarget.body(backend("https://oai.example.com", "gpt-4o-eu"), CHAT, body)).isSameAs(body);
	}

	@Test
	void bodyIsUntouchedOnADeploymentsPath() {
		byte[] body = json("{\"model\":\"gpt-4o\"}");
		assertThat(RequestTarget.body(backend("https://oai.example.com", "gpt-4o-eu"),
				"/openai/deployments/gpt-4o/chat/completions", body))
			.isSameAs(body);
	}

	@Test
	void bodyIsUntouchedWithoutDeployment() {
		byte[] body = json("{\"model\":\"gpt-4o\"}");
		assertThat(RequestTarget.body(backend("https://oai.example.com", null), "/openai/v1/chat/completions", body))
			.isSameAs(body);
	}

	@Test
	void bodyIsUntouchedWhenTheModelAlreadyMatchesOrIsAbsentOrNotText() {
		BackendConfig backend = backend("https://oai.example.com", "gpt-4o-eu");
		for (String text : new String[] { "{\"model\":\"gpt-4o-eu\"}", "{\"messages\":[]}", "{\"model\":null}",
				"{\"model\":{\"name\":\"gpt-4o\"}}", "{\"model\":42}" }) {
			byte[] body = json(text);
			assertThat(RequestTarget.body(backend, "/openai/v1/chat/completions", body)).as(text).isSameAs(body);
		}
	}

	@Test
	void nonJsonBodyIsUntouched() {
		BackendConfig backend = backend("https://oai.example.com", "gpt-4o-eu");
		for (String text : new String[] { "model=gpt-4o", "[{\"model\":\"gpt-4o\"}]", "{\"model\":\"gpt-4o\"",
				"{not json at all", "" }) {
			byte[] body = json(text);
			assertThat(RequestTarget.body(backend, "/openai/v1/chat/completions", body)).as(text).isSameAs(body);
		}
		byte[] binary = { (byte) 0x89, 'P', 'N', 'G', 0, 1, 2 };
		assertThat(RequestTarget.body(backend, "/openai/v1/audio/transcriptions", binary)).isSameAs(binary);
	}

	private static byte[] json(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static BackendConfig backend(String url, String deployment) {
		return BalancerConfig.builder()
			.backend(new BalancerConfig.BackendBuilder().name("a").url(url).deployment(deployment))
			.build()
			.backends()
			.get(0);
	}

}
