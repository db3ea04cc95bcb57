package io.github.openailb.demo;

import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.stereotype.Component;

/**
 * Embeds a text through the balanced {@code AzureOpenAiEmbeddingModel}: the same Azure SDK client
 * as chat, so each call goes only to the instances whose deployment map lists the embedding
 * model. Failures surface as {@link ChatThrottledException} or {@link ChatFailedException}.
 */
@Component
class Embeddings {

	private final EmbeddingModel model;

	Embeddings(EmbeddingModel model) {
		this.model = model;
	}

	float[] embed(String text) {
		try {
			return this.model.embed(text);
		}
		catch (RuntimeException ex) {
			throw SpringAiChat.translate(ex);
		}
	}

}
