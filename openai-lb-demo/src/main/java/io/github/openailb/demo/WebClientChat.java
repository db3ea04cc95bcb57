package io.github.openailb.demo;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import reactor.core.publisher.Flux;

import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import org.springframework.web.reactive.function.client.WebClientResponseException;

/**
 * Chat over the balanced {@code WebClient}, speaking Azure OpenAI's chat-completions API.
 */
class WebClientChat implements Chat {

	private static final ParameterizedTypeReference<ServerSentEvent<String>> EVENTS = new ParameterizedTypeReference<>() {
	};

	private final WebClient client;

	private final String path;

	private final ObjectMapper json;

	WebClientChat(WebClient client, String deployment, ObjectMapper json) {
		this.client = client;
		this.path = "/openai/deployments/" + deployment + "/chat/completions?api-version=2024-10-21";
		this.json = json;
	}

	@Override
	public String call(String message) {
		try {
			JsonNode answer = this.client.post()
				.uri(this.path)
				.contentType(MediaType.APPLICATION_JSON)
				.bodyValue(body(message, false))
				.retrieve()
				.bodyToMono(JsonNode.class)
				.block();
			return answer.path("choices").path(0).path("message").path("content").asText();
		}
		catch (RuntimeException ex) {
			throw translate(ex);
		}
	}

	@Override
	public Flux<String> stream(String message) {
		return this.client.post()
			.uri(this.path)
			.contentType(MediaType.APPLICATION_JSON)
			.accept(MediaType.TEXT_EVENT_STREAM)
			.bodyValue(body(message, true))
			.retrieve()
			.bodyToFlux(EVENTS)
			.map(ServerSentEvent::data)
			.takeWhile((data) -> !"[DONE]".equals(data))
			.map(this::deltaContent)
			.filter((content) -> !content.isEmpty())
			.onErrorMap(WebClientChat::translate);
	}

	private String deltaContent(String data) {
		try {
			return this.json.readTree(data).path("choices").path(0).path("delta").path("content").asText("");
		}
		catch (Exception ex) {
			return "";
		}
	}

	private static Map<String, Object> body(String message, boolean stream) {
		return Map.of("messages", List.of(Map.of("role", "user", "content", message)), "stream", stream);
	}

	static RuntimeException translate(Throwable ex) {
		if (ex instanceof ChatThrottledException || ex instanceof ChatFailedException) {
			return (RuntimeException) ex;
		}
		if (ex instanceof WebClientResponseException response) {
			if (response.getStatusCode().value() == 429) {
				String retryAfter = response.getHeaders().getFirst(HttpHeaders.RETRY_AFTER);
				return new ChatThrottledException(RetryAfter.seconds(retryAfter), ex);
			}
			return new ChatFailedException(502, "The backends answered " + response.getStatusCode().value() + ".", ex);
		}
		if (ex instanceof WebClientRequestException) {
			return new ChatFailedException(503, "No backend could be reached.", ex);
		}
		return new ChatFailedException(502, "The chat model could not answer.", ex);
	}

}
