package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.chat.BuiltinTemplates;
import dev.gguf4j.chat.ChatMessage;
import dev.gguf4j.chat.ChatParams;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.sampling.SamplingParams;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Real clients of {@code gguf4j serve} (with an API key, the chatml template, the shared kjv7m model): LangChain4j's
 * OpenAI and Ollama chat models, plain and streaming, and the chat page at {@code /} in headless Chromium driven by
 * Selenium. Each reply is compared with {@link Llama#chat} for the same request and seed.
 */
class ServeClientsTest {
    static final String KEY = "sk-clients";
    static ServeFixture serve;
    static Llama reference;

    @BeforeAll
    static void start() throws Exception {
        serve = new ServeFixture("-c", "256", "-np", "2", "--api-key", KEY, "--alias", "kjv");
        reference = Llama.load(serve.model, LlamaOptions.DEFAULTS.withThreads(2).withContextLength(256));
    }

    @AfterAll
    static void stop() throws Exception {
        if (serve != null) {
            serve.close();
            assertFalse(serve.log().contains("internal error"), serve.log());
        }
        if (reference != null) {
            reference.close();
        }
    }

    static String expected(String system, String user, float temperature, long seed, int maxTokens) {
        ChatParams p = ChatParams.DEFAULTS.withMaxTokens(maxTokens).withTemplate(BuiltinTemplates.get("chatml")
                .orElseThrow()).withSampling(SamplingParams.DEFAULTS.withTemperature(temperature).withSeed(seed));
        return reference.chat(List.of(ChatMessage.system(system), ChatMessage.user(user)), p).message().content();
    }

    static final List<dev.langchain4j.data.message.ChatMessage> MESSAGES = List.of(
            SystemMessage.from("You are brief."), UserMessage.from("And God said"));

    static String stream(StreamingChatModel m) throws Exception {
        StringBuilder text = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        m.chat(MESSAGES, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                text.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse r) {
                done.complete(r);
            }

            @Override
            public void onError(Throwable e) {
                done.completeExceptionally(e);
            }
        });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        assertEquals(text.toString(), r.aiMessage().text());
        return text.toString();
    }

    @Test
    void langChain4jOpenAi() throws Exception {
        String expected = expected("You are brief.", "And God said", 0.8f, 42, 24);
        ChatModel chat = OpenAiChatModel.builder().baseUrl(serve.url + "/v1").apiKey(KEY).modelName("kjv")
                .temperature(0.8).seed(42).maxTokens(24).timeout(Duration.ofSeconds(60)).build();
        ChatResponse r = chat.chat(MESSAGES);
        assertEquals(expected, r.aiMessage().text());
        assertTrue(r.tokenUsage().outputTokenCount() > 0);
        StreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(serve.url + "/v1").apiKey(KEY)
                .modelName("kjv").temperature(0.8).seed(42).maxTokens(24).timeout(Duration.ofSeconds(60)).build();
        assertEquals(expected, stream(streaming));
    }

    @Test
    void langChain4jOllama() throws Exception {
        String expected = expected("You are brief.", "And God said", 0.8f, 42, 24);
        Map<String, String> auth = Map.of("Authorization", "Bearer " + KEY);
        ChatModel chat = OllamaChatModel.builder().baseUrl(serve.url).modelName("kjv").temperature(0.8).seed(42)
                .numPredict(24).customHeaders(auth).timeout(Duration.ofSeconds(60)).build();
        assertEquals(expected, chat.chat(MESSAGES).aiMessage().text());
        StreamingChatModel streaming = OllamaStreamingChatModel.builder().baseUrl(serve.url).modelName("kjv")
                .temperature(0.8).seed(42).numPredict(24).customHeaders(auth).timeout(Duration.ofSeconds(60)).build();
        assertEquals(expected, stream(streaming));
    }

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @Test
    void theChatPageStreamsARepliesInHeadlessChromium() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "ServeClientsTest: chat page test skipped: needs Debian's chromium and chromium-driver ("
                    + CHROMIUM + ", " + CHROMEDRIVER + "; apt-get install chromium chromium-driver)";
            System.out.println("gguf4j: " + why);
            Assumptions.abort(why);
        }
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER
                .toString())).usingAnyFreePort().build();
        WebDriver d = new ChromeDriver(service, o);
        try {
            d.get(serve.url + "/");
            WebDriverWait wait = new WebDriverWait(d, Duration.ofSeconds(60));
            d.findElement(By.id("api-key")).sendKeys(KEY);
            WebElement system = d.findElement(By.id("system"));
            system.clear();
            system.sendKeys("You are terse.");
            for (String[] f : new String[][] {{"temperature", "0"}, {"max-tokens", "16"}}) {
                WebElement e = d.findElement(By.id(f[0]));
                e.clear();
                e.sendKeys(f[1]);
            }
            d.findElement(By.id("prompt")).sendKeys("In the beginning");
            d.findElement(By.id("send")).click();
            wait.until(x -> List.of("done", "error").contains(x.findElement(By.id("status")).getText()));
            List<WebElement> replies = d.findElements(By.cssSelector("#messages .msg"));
            assertEquals("done", d.findElement(By.id("status")).getText(), replies.isEmpty() ? ""
                    : replies.getLast().getDomProperty("textContent"));
            assertEquals(2, replies.size());
            assertEquals("In the beginning", replies.getFirst().getDomProperty("textContent"));
            assertEquals(expected("You are terse.", "In the beginning", 0, 0, 16),
                    replies.getLast().getDomProperty("textContent"));
            assertTrue(serve.log().contains("POST /v1/chat/completions 200"), serve.log());
        } finally {
            d.quit();
        }
    }
}
