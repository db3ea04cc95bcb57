package io.github.openailb.springai;

import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@link ChatAndEmbeddingScenario} with Spring AI 2's {@code OpenAiChatModel} and
 * {@code OpenAiEmbeddingModel} on the OpenAI SDK against {@code /v1} backends: the model in the
 * body.
 */
class OpenAiSdkChatAndEmbeddingModelsTests extends ChatAndEmbeddingScenario {

	@Override
	String backendUrl(WireMockServer server) {
		return server.baseUrl() + "/v1";
	}

	@Override
	List<String> modelArgs() {
		return List.of("--openai.lb.backends[0].key-style=bearer", "--openai.lb.backends[1].key-style=bearer",
				"--spring.ai.openai.chat.model=gpt-4o", "--spring.ai.openai.embedding.model=emb");
	}

	@Override
	String chat(ConfigurableApplicationContext context, String model) {
		return ChatClient.create(context.getBean(OpenAiChatModel.class))
			.prompt("hi")
			.options(OpenAiChatOptions.builder().model(model))
			.call()
			.content();
	}

	@Override
	float[] embed(ConfigurableApplicationContext context) {
		return context.getBean(EmbeddingModel.class).embed("hi");
	}

}
