package io.github.openailb.demo.boot4;

import java.util.Map;

import com.openai.errors.RateLimitException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /api/chat} and {@code GET /api/chat/stream}: one balanced chat call or stream. When
 * every backend is throttled the answer is 429 with the balancer's {@code Retry-After}.
 */
@RestController
class ChatController {

	private final ChatClient chat;

	ChatController(ChatClient chat) {
		this.chat = chat;
	}

	@PostMapping(path = "/api/chat", produces = MediaType.APPLICATION_JSON_VALUE)
	Mono<Map<String, String>> chat(@RequestBody Map<String, String> request) {
		// the SDK call blocks: keep it off the event loop
		return Mono.fromCallable(() -> this.chat.prompt(request.getOrDefault("message", "hi")).call().content())
			.subscribeOn(Schedulers.boundedElastic())
			.map((reply) -> Map.of("reply", reply));
	}

	@GetMapping(path = "/api/chat/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
	Flux<String> stream(@RequestParam String message) {
		return this.chat.prompt(message).stream().content();
	}

	/** The SDK's 429 ({@code RateLimitException}, possibly wrapped) carries the balancer's Retry-After. */
	@ExceptionHandler(RuntimeException.class)
	ResponseEntity<Map<String, String>> failed(RuntimeException ex) {
		return answerFor(ex);
	}

	/** The answer to a failed chat or embeddings call. */
	static ResponseEntity<Map<String, String>> answerFor(RuntimeException ex) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (cause instanceof RateLimitException throttled) {
				String retryAfter = throttled.headers().values("Retry-After").stream().findFirst().orElse("1");
				return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS)
					.header("Retry-After", retryAfter)
					.body(Map.of("error", "throttled", "retryAfterSeconds", retryAfter));
			}
		}
		return ResponseEntity.status(HttpStatus.BAD_GATEWAY).body(Map.of("error", "no backend answered"));
	}

}
