package io.github.openailb.springai;

import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.openai.OpenAiEmbeddingModel;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@link ChatAndEmbeddingScenario} with Spring AI's {@link OpenAiChatModel} and
 * {@link OpenAiEmbeddingModel} ({@code OpenAiApi} over the application's {@code RestClient}): the
 * model in the body of {@code /v1} requests.
 */
class OpenAiChatAndEmbeddingModelsTests extends ChatAndEmbeddingScenario {

	@Override
	String backendUrl(WireMockServer server) {
		return server.baseUrl();
	}

	@Override
	List<String> modelArgs() {
		return List.of("--openai.lb.backends[0].key-style=bearer", "--openai.lb.backends[1].key-style=bearer",
				"--spring.ai.openai.chat.options.model=gpt-4o", "--spring.ai.openai.embedding.options.model=emb");
	}

	@Override
	String chat(ConfigurableApplicationContext context, String model) {
		return ChatClient.create(context.getBean(OpenAiChatModel.class))
			.prompt("hi")
			.options(OpenAiChatOptions.builder().model(model).build())
			.call()
			.content();
	}

	@Override
	float[] embed(ConfigurableApplicationContext context) {
		return context.getBean(OpenAiEmbeddingModel.class).embed("hi");
	}

}
