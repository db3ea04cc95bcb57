package io.github.openailb.demo;

import java.util.Map;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The demo's chat API.
 */
@RestController
class ChatController {

	private final Chat chat;

	ChatController(Chat chat) {
		this.chat = chat;
	}

	@PostMapping(path = "/api/chat", produces = MediaType.APPLICATION_JSON_VALUE)
	Map<String, Object> chat(@RequestBody ChatRequest request) {
		long start = System.nanoTime();
		String reply = this.chat.call(request.requireMessage());
		return Map.of("reply", reply, "millis", (System.nanoTime() - start) / 1_000_000);
	}

	/**
	 * Waits for the first chunk before answering, so that a request every backend refuses gets a
	 * proper 429 or 502 status instead of a stream that starts and then fails.
	 */
	@GetMapping(path = "/api/chat/stream")
	Mono<ResponseEntity<Flux<ServerSentEvent<String>>>> stream(@RequestParam String message) {
		Flux<String> chunks = this.chat.stream(new ChatRequest(message).requireMessage()).cache();
		Flux<ServerSentEvent<String>> events = chunks.map((chunk) -> ServerSentEvent.builder(chunk).build())
			.onErrorResume((ex) -> Flux.just(ServerSentEvent.builder("{\"error\":\"stream_broken\"}")
				.event("error")
				.build()));
		return chunks.take(1)
			.then(Mono.just(ResponseEntity.ok().contentType(MediaType.TEXT_EVENT_STREAM).body(events)));
	}

	/**
	 * The body of a chat request.
	 *
	 * @param message the user's message
	 */
	record ChatRequest(String message) {

		String requireMessage() {
			if (this.message == null || this.message.isBlank()) {
				throw new IllegalArgumentException("'message' must not be empty");
			}
			return this.message;
		}

	}

}
