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
 * {@code OpenAiEmbeddingModel} in the OpenAI SDK's Azure mode: the deployment in the path.
 */
class AzureOpenAiSdkChatAndEmbeddingModelsTests extends ChatAndEmbeddingScenario {

	@Override
	String backendUrl(WireMockServer server) {
		return server.baseUrl();
	}

	@Override
	List<String> modelArgs() {
		return List.of("--spring.ai.openai.microsoft-deployment-name=gpt-4o", "--spring.ai.openai.embedding.model=emb");
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
