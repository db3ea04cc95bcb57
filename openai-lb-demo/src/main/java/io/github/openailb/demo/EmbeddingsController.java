package io.github.openailb.demo;

import java.util.Map;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The demo's embeddings API.
 */
@RestController
class EmbeddingsController {

	private final Embeddings embeddings;

	EmbeddingsController(Embeddings embeddings) {
		this.embeddings = embeddings;
	}

	@PostMapping(path = "/api/embeddings", produces = MediaType.APPLICATION_JSON_VALUE)
	Map<String, Object> embed(@RequestBody EmbeddingRequest request) {
		long start = System.nanoTime();
		float[] vector = this.embeddings.embed(request.requireText());
		return Map.of("dimensions", vector.length, "millis", (System.nanoTime() - start) / 1_000_000);
	}

	/**
	 * The body of an embeddings request.
	 *
	 * @param text the text to embed
	 */
	record EmbeddingRequest(String text) {

		String requireText() {
			if (this.text == null || this.text.isBlank()) {
				throw new IllegalArgumentException("'text' must not be empty");
			}
			return this.text;
		}

	}

}
