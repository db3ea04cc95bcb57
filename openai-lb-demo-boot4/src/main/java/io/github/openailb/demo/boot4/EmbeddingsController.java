package io.github.openailb.demo.boot4;

import java.util.Map;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /api/embeddings}: one balanced embeddings call, sent only to the instances whose
 * deployment map lists the embedding model. Failures are answered like chat's (see
 * {@link ChatController}).
 */
@RestController
class EmbeddingsController {

	private final EmbeddingModel embeddings;

	EmbeddingsController(EmbeddingModel embeddings) {
		this.embeddings = embeddings;
	}

	@PostMapping(path = "/api/embeddings", produces = MediaType.APPLICATION_JSON_VALUE)
	Mono<Map<String, Object>> embed(@RequestBody Map<String, String> request) {
		// the SDK call blocks: keep it off the event loop
		return Mono.fromCallable(() -> this.embeddings.embed(request.getOrDefault("text", "hi")))
			.subscribeOn(Schedulers.boundedElastic())
			.map((vector) -> Map.of("dimensions", vector.length));
	}

	@ExceptionHandler(RuntimeException.class)
	ResponseEntity<Map<String, String>> failed(RuntimeException ex) {
		return ChatController.answerFor(ex);
	}

}
