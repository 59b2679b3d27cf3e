package dev.gguf4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Spot checks against llama.cpp's own tokenizer ({@code llama-tokenize --ids --no-bos --no-escape} from the
 * llama.cpp build at c392e50, run on {@link TokenizerTestInputs#allInputs()}), beyond the {@code .out} files:
 *
 * <ul>
 * <li>the shared vocabularies with {@code parse_special = true} (all inputs) and with {@code parse_special = false}
 * on the extra inputs;</li>
 * <li>pre-tokenizers without a vocabulary file in shared/ ({@code llama-bpe}, {@code qwen2}, {@code command-r},
 * {@code default}, {@code deepseek-v3}, {@code deepseek-llm}, {@code tekken}, {@code chameleon}, {@code bloom},
 * {@code viking}, {@code chatglm-bpe}): the GPT-2 vocabulary (or deepseek-coder's) with {@code tokenizer.ggml.pre}
 * replaced, which is a valid byte-level vocabulary for any of them;</li>
 * <li>llama-spm with {@code tokenizer.ggml.add_space_prefix = false}.</li>
 * </ul>
 *
 * <p>Each group line is {@code vocab[:pre or nospace]|parse_special|first input index}, followed by one
 * {@code count:crc32} per input ({@link TokenizerTestInputs#fingerprint}), in input order.
 */
class LlamaCppSpotChecksTest {
    private static final String TABLE = """
            deepseek-coder|0|46
              24:3ee91b00 34:4bf459e5 23:7f471c8f 16:9f6a2bd8 6:b67d6775 22:e45e1f0f 35:63379770 22:52f9c6cc
              30:f7b8358d 21:608540bd 22:dca22da1 23:b73b6957 13:97f997de 18:774a8457 18:eb3975ab 1:9bc42e6d
              1:bf557b10 14:3fe66d5a 21:fef1fd6b 31:2ca8db9a 27:17e194de 13:911fcf26 13:ea7884f4
            deepseek-coder|1|0
              6:9aa5202b 4:fdc4511e 0:00000000 1:bf557b10 1:dc547a0d 1:4982414a 1:ecc31efb 1:9bc42e6d
              2:9cf12457 3:32a5ee51 2:a1910de7 2:eafc1059 3:7500be34 2:29b52c7e 3:b6498213 4:3c685c2a
              4:e0b8f181 5:66a9302a 7:4262ee8b 12:7f851b97 5:9a6b22f0 57:ca2b42b6 41:3f1466b8 1:b7e7205b
              2:17b06522 3:37d57755 3:8ee7a4ad 3:690b34c7 7:246b35e9 1:0cb3135e 2:52e36cb4 2:4fbd4a8d
              28:af4e2ee6 2:06caadac 1:af86add3 2:b0f4b6cd 3:b171e322 4:49d1aa00 5:85756fd2 6:6c4ecaba
              7:48f1f143 8:9588f81d 9:0bb189ab 10:345e3069 2:fa2030ee 239:30d52464 24:3ee91b00 34:4bf459e5
              23:7f471c8f 16:9f6a2bd8 6:b67d6775 22:e45e1f0f 35:63379770 22:52f9c6cc 30:f7b8358d 21:608540bd
              22:dca22da1 23:b73b6957 13:97f997de 18:774a8457 18:eb3975ab 1:9bc42e6d 1:bf557b10 14:3fe66d5a
              21:fef1fd6b 4:e882075c 27:17e194de 13:911fcf26 13:ea7884f4
            falcon|0|46
              22:29b9ab2c 24:d8568eff 21:adfe9f0b 14:507fa5a0 5:38a0ee46 16:ea3aa2af 29:e5fb3599 21:1929d9b0
              28:91a91124 21:38a29b5b 19:c60c4e48 32:0cb75188 14:c40e0a20 16:75829f88 16:1d02c8cf 1:6bbcba19
              1:265c2aaa 15:816f247c 19:ae519138 31:0e6b01be 26:e0f82b2f 13:f77b8fe1 12:ef055e39
            falcon|1|0
              6:25a4d989 3:834efa17 0:00000000 1:265c2aaa 1:529d92c4 1:9a8590b2 1:1cbb8a8f 1:6bbcba19
              1:c3209381 1:916cc72c 1:492acef5 2:bd04d4c7 2:83b3e258 2:263a365e 2:188d00c1 3:c3f83356
              4:e6bf7558 4:8abe2251 7:2939f395 9:43d090d4 19:60959c86 42:cb73bcbc 35:71a73376 1:eb948b30
              1:f36b1332 2:7a080fa4 2:f5486bb4 2:58e26e80 4:248c3856 2:8e17e04b 2:b00d0afd 2:172fb304
              27:b42b4c53 1:0e7d1c89 1:936b4763 1:3a1ada5a 1:cf2c04db 2:cbcc40f3 2:d53f9d44 2:35cc1cff
              3:d699d414 3:3362b267 3:974d30a2 8:227fb966 2:bcef6213 210:027fbbb1 22:29b9ab2c 24:d8568eff
              21:adfe9f0b 14:507fa5a0 5:38a0ee46 16:ea3aa2af 29:e5fb3599 6:325d321f 28:91a91124 21:38a29b5b
              19:c60c4e48 32:0cb75188 14:c40e0a20 16:75829f88 16:1d02c8cf 1:6bbcba19 1:265c2aaa 15:816f247c
              19:ae519138 31:0e6b01be 26:e0f82b2f 13:f77b8fe1 12:ef055e39
            gpt-2|0|46
              21:4512c208 23:1e8c28f9 22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a
              27:83e14363 21:0990b9bd 22:3ffa8020 23:a65dff20 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391
              1:13078c31 14:5b745699 23:dd218361 31:22f0b469 28:91315c4d 10:902fabf3 13:05b45905
            gpt-2|1|0
              4:8ece9539 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 9:578d5ac9 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              29:a4124dd2 2:cec579c5 1:af86add3 1:00578726 1:7d1b2f0b 1:d501047e 2:fe7c014a 2:d70dffb6
              2:8dc3e637 2:25d9cd42 3:06ce7074 10:6ffbcaa8 2:4323524a 222:0f920689 21:4512c208 23:1e8c28f9
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 6:c5ddfcc6 27:83e14363 21:0990b9bd
              22:3ffa8020 23:a65dff20 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 28:91315c4d 10:902fabf3 13:05b45905
            llama-spm|0|46
              25:5cf5c58a 35:1dde7cde 17:8e5fab6c 16:e247929c 5:93bddc1a 20:5b7955e3 40:a32e5760 23:049d75c9
              17:dcfd5cc7 22:656e0080 22:c7306817 23:93c16b79 12:6fd4d29a 11:724ef886 21:0fddf389 2:6454cc5a
              1:259aa252 14:4abca318 22:28f87bdd 24:6f5bde1e 28:e957dbc7 14:e283dc71 4:830ec61d
            llama-spm|1|0
              7:c81bdc13 3:74bc3787 0:00000000 1:259aa252 1:f130c150 1:79b0c107 2:1353fccc 2:6454cc5a
              3:ddf9a69f 4:7de8aef5 3:6545c1fa 2:4031905d 3:62e2b3ce 2:8b07bb1c 3:a9d4988f 4:9281e941
              4:1ee94465 5:02f76330 10:866f61e6 11:dc74351b 6:71575c45 46:f4c71704 40:f6ba73d2 1:bd0719c9
              2:90d95712 2:1d536afb 2:265fa2e0 2:35ab66ac 5:5c8c6336 2:d7bad451 3:58618a00 2:6aa429ce
              30:58d442a5 3:1ac598ec 2:7c70c8d9 3:8ca0caa4 4:d24c4d92 5:f922389a 6:cba2fc79 7:8d515c8b
              8:45e83334 9:4ad0b4e0 10:fe7a1128 8:ee28bd7e 3:4589b3b9 237:c4e1fc44 25:5cf5c58a 35:1dde7cde
              17:8e5fab6c 16:e247929c 5:93bddc1a 20:5b7955e3 40:a32e5760 23:049d75c9 17:dcfd5cc7 22:656e0080
              22:c7306817 23:93c16b79 12:6fd4d29a 11:724ef886 21:0fddf389 2:6454cc5a 1:259aa252 8:6a8a38e0
              22:28f87bdd 24:6f5bde1e 28:e957dbc7 14:e283dc71 4:830ec61d
            mpt|0|46
              22:f901dbf8 22:f614a7ae 16:ec7ecc00 14:43599be8 5:1699248c 18:e2319aad 34:2ed9adaf 20:c6ad1a61
              19:b7341575 11:916538e7 20:c4ef68c0 23:d0da46d8 10:b575b8d8 15:f5305d4f 15:3322b7db 1:75ca4f41
              1:58ed5617 14:a52eb05f 19:53718bbc 26:0b8a6dfd 25:ece05b31 12:4202d013 12:807bc391
            mpt|1|0
              4:b4411b8c 3:45f5734e 0:00000000 1:58ed5617 1:279a3c19 1:be936da3 1:02cd7fd7 1:75ca4f41
              1:7f395f7a 1:37c94b0c 2:355f3fab 2:b04502e2 2:505d5d8f 2:be2847c2 2:5e3018af 3:8acc4e91
              4:ea0e0f4f 4:5489a263 7:cdb5972c 8:e43306d9 11:7c915996 38:fc9faa45 38:8120496f 1:e2796fab
              1:eb853130 2:4a00ab29 2:7be8b1b4 2:dd9fba00 5:d8ea8ca5 1:a0e1e47f 2:831c0cec 2:098fd7d2
              24:0fdc120c 2:21c38be2 1:8a707622 1:a9b1eee4 1:ffa84984 1:6ba24831 2:9170b54d 2:d4f2de66
              2:fc63e8b8 2:6869e90d 3:b6a1b4c8 7:d5b7bf66 2:202ec75a 179:d79d8ad7 22:f901dbf8 22:f614a7ae
              16:ec7ecc00 14:43599be8 5:1699248c 18:e2319aad 34:2ed9adaf 6:a17e99c3 19:b7341575 11:916538e7
              20:c4ef68c0 23:d0da46d8 10:b575b8d8 15:f5305d4f 15:3322b7db 1:75ca4f41 1:58ed5617 14:a52eb05f
              19:53718bbc 26:0b8a6dfd 25:ece05b31 12:4202d013 12:807bc391
            refact|0|46
              22:120b7513 35:f3ddbe5d 19:fda9ccdc 13:de0792bc 5:25aa4b6c 17:d2e57e5f 26:28f5877b 16:6099c1e7
              15:504e334d 6:fb8fef8b 18:be7db3a8 20:8c9fc003 12:a0e3e535 13:dd9404c1 15:1adc7fa4 1:b838bf09
              1:636d78be 14:59aafae5 17:6922e25d 26:4d6eab0f 25:02968ee4 12:971f4751 11:f323a587
            refact|1|0
              7:51e5fd73 4:fb4a6b06 0:00000000 1:636d78be 1:006c79a3 1:70068d2c 1:cf3f8f9f 1:b838bf09
              1:64268cf4 1:f4ab3e14 1:93655c8f 2:27c4d23b 2:90d5a540 2:ddd8f8da 2:1ab84119 3:68613433
              4:0d80347d 4:0f232dcf 7:c92b5801 12:854bf95a 11:346c35a1 38:f76e4385 29:c7594375 1:fc361690
              1:ddb5b5ce 2:b084a591 2:c0818f78 2:92b9a0df 4:2c81d1da 1:2e280cb6 2:bc2603d1 2:d777f4bf
              26:87141db5 2:b2701768 1:0d0fd2c0 2:30de8ae8 3:8536a893 4:d4f103fd 5:de4bd7b7 6:6da68522
              7:c0485e99 8:2c3d9c6e 9:4515c9a8 6:063c9f6f 2:6ae69401 198:fe04bee8 22:120b7513 35:f3ddbe5d
              19:fda9ccdc 13:de0792bc 5:25aa4b6c 17:d2e57e5f 26:28f5877b 6:260eb15d 15:504e334d 6:fb8fef8b
              18:be7db3a8 20:8c9fc003 12:a0e3e535 13:dd9404c1 15:1adc7fa4 1:b838bf09 1:636d78be 14:59aafae5
              17:6922e25d 26:4d6eab0f 10:010f35e5 12:971f4751 11:f323a587
            starcoder|0|46
              22:12554294 35:839449fe 19:741f266b 13:49ef8c19 5:44c55580 17:58f941fc 26:99c40f26 16:20a4b8bf
              15:70f9e690 6:5d5a9eb7 18:c5c35d23 20:784b9190 12:abd4c8db 13:d45c6d0f 15:f467e686 1:fd09ed1d
              1:4230efae 14:f8a741f0 17:a8abbfc3 26:4a9cd6ef 25:46c4e63d 12:3e7ca4fe 11:3717f2e8
            starcoder|1|0
              7:cb5fd665 4:47d1e5a7 0:00000000 1:4230efae 1:e9e864bb 1:70e13501 1:6400bca7 1:fd09ed1d
              1:8da291ec 1:d61059b9 1:8d13a9d7 2:904b68ae 2:639f80ce 2:e5743069 2:a83585d9 3:80601d02
              4:aed27020 4:a0361023 7:8b61a1e5 12:24a0a79e 11:607b345f 38:401a87eb 29:27e4c60c 1:256733e8
              1:a4690d6a 2:a9401f06 2:0aa02e5a 2:3b4834c7 4:16960841 1:8ca173a5 2:ac49028f 2:695317ed
              26:bf9a7e35 2:b0233308 1:2c5245d0 2:267f8f3d 3:f38faf75 4:a53fa566 5:8ad1e31f 6:30609713
              7:ce4f5125 8:d8d88568 9:2ba59d11 6:d776267c 2:73c9fc91 198:33c39b7a 22:12554294 35:839449fe
              19:741f266b 13:49ef8c19 5:44c55580 17:58f941fc 26:99c40f26 6:38d82ff1 15:70f9e690 6:5d5a9eb7
              18:c5c35d23 20:784b9190 12:abd4c8db 13:d45c6d0f 15:f467e686 1:fd09ed1d 1:4230efae 14:f8a741f0
              17:a8abbfc3 26:4a9cd6ef 10:b91cdab2 12:3e7ca4fe 11:3717f2e8
            gpt-2:default|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 10:b5b62743 20:bc2c3cb5 57:37447bcc 37:09e64250 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 2:e20607e0 3:2e410a53 2:a86c7223
              30:b8cfc6b9 2:cec579c5 1:af86add3 1:00578726 1:7d1b2f0b 2:b465c7a7 2:e663a871 2:88f2df73
              3:23ed45db 3:665feb0f 3:3fcfbf0b 10:6ffbcaa8 2:4323524a 245:b600df47 22:dab3896d 26:4d72cb10
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 24:eb6871fa 27:83e14363 21:0990b9bd
              22:3ffa8020 31:ae2a076f 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 15:8b1afe15
              24:57adf82e 31:22f0b469 29:a68b2416 10:902fabf3 13:05b45905
            gpt-2:llama-bpe|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 10:b5b62743 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              29:a1a20517 2:cec579c5 1:af86add3 1:00578726 1:7d1b2f0b 2:b465c7a7 2:e663a871 2:88f2df73
              3:23ed45db 3:665feb0f 3:3fcfbf0b 10:6ffbcaa8 2:4323524a 234:39c8abca 21:4512c208 26:4d72cb10
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a 27:83e14363 21:0990b9bd
              22:3ffa8020 23:a65dff20 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a68b2416 10:902fabf3 13:05b45905
            gpt-2:qwen2|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 12:29d6487b 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              33:a1ead6e5 2:cec579c5 1:af86add3 2:b0f4b6cd 3:b171e322 4:49d1aa00 5:85756fd2 6:6c4ecaba
              7:48f1f143 8:9588f81d 9:0bb189ab 10:6ffbcaa8 2:4323524a 259:a19cbf7a 21:4512c208 34:f40da0ce
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a 27:83e14363 21:0990b9bd
              23:96a9e5c6 23:a65dff20 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a68b2416 10:902fabf3 13:05b45905
            gpt-2:command-r|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 12:29d6487b 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              33:a1ead6e5 2:cec579c5 1:af86add3 2:b0f4b6cd 3:b171e322 4:49d1aa00 5:85756fd2 6:6c4ecaba
              7:48f1f143 8:9588f81d 9:0bb189ab 10:6ffbcaa8 2:4323524a 259:a19cbf7a 21:4512c208 34:f40da0ce
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a 27:83e14363 21:0990b9bd
              23:96a9e5c6 23:a65dff20 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a68b2416 10:902fabf3 13:05b45905
            gpt-2:deepseek-v3|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 10:b5b62743 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              29:a1a20517 2:cec579c5 1:af86add3 1:00578726 1:7d1b2f0b 2:b465c7a7 2:e663a871 2:88f2df73
              3:23ed45db 3:665feb0f 3:3fcfbf0b 10:6ffbcaa8 2:4323524a 234:39c8abca 21:4512c208 26:4d72cb10
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 31:dc76656d 23:3b848c9a 27:540111fa 21:0990b9bd
              22:3ffa8020 23:a65dff20 11:dfd95cf0 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a68b2416 10:902fabf3 13:05b45905
            gpt-2:deepseek-llm|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              2:c8977ebf 3:784e38d0 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 10:b5b62743 20:bc2c3cb5 57:37447bcc 35:d43fa978 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              29:a4124dd2 2:cec579c5 1:af86add3 1:00578726 1:7d1b2f0b 1:d501047e 2:fe7c014a 2:d70dffb6
              2:8dc3e637 2:25d9cd42 3:06ce7074 10:6ffbcaa8 2:4323524a 238:2745c588 22:dab3896d 27:5551018a
              22:e8a0988c 17:7a39011e 8:8ad2717a 19:6e12eebd 31:dc76656d 23:3b848c9a 27:540111fa 21:0990b9bd
              22:3ffa8020 23:a65dff20 11:dfd95cf0 18:b01819df 17:81f0ce1b 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a68b2416 10:902fabf3 15:1d35152e
            gpt-2:tekken|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 12:29d6487b 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              33:a1ead6e5 2:cec579c5 1:af86add3 2:b0f4b6cd 3:b171e322 4:49d1aa00 5:85756fd2 6:6c4ecaba
              7:48f1f143 8:9588f81d 9:0bb189ab 10:6ffbcaa8 2:4323524a 259:a19cbf7a 21:4512c208 34:f40da0ce
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a 27:83e14363 21:0990b9bd
              23:96a9e5c6 23:a65dff20 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a68b2416 10:902fabf3 13:05b45905
            gpt-2:chameleon|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              2:c8977ebf 3:784e38d0 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 12:29d6487b 20:bc2c3cb5 57:37447bcc 37:09e64250 1:7fca3bd7
              1:ee465a3a 3:4b820ebe 3:da0e6f53 5:c9d7a99c 11:850f8759 2:e20607e0 3:2e410a53 2:a86c7223
              34:f6f28351 6:3e2fd8e8 1:af86add3 2:b0f4b6cd 3:b171e322 4:49d1aa00 5:85756fd2 6:6c4ecaba
              7:48f1f143 8:9588f81d 9:0bb189ab 10:6ffbcaa8 2:4323524a 308:9abd0a2d 22:dab3896d 34:f40da0ce
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 24:eb6871fa 27:83e14363 21:0990b9bd
              26:62f3ea47 42:c6b3d868 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 16:bf325c4b
              25:a3f48e87 31:22f0b469 32:9803aa8a 10:902fabf3 13:05b45905
            gpt-2:bloom|0|0
              4:8ece9539 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 9:578d5ac9 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              29:a4124dd2 2:cec579c5 1:af86add3 1:00578726 1:7d1b2f0b 1:d501047e 2:fe7c014a 2:d70dffb6
              2:8dc3e637 2:25d9cd42 3:06ce7074 10:6ffbcaa8 2:4323524a 223:52a78205 21:4512c208 23:1e8c28f9
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a 27:83e14363 21:0990b9bd
              22:3ffa8020 24:fea4889a 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a8dc3a4a 10:902fabf3 13:05b45905
            gpt-2:viking|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 12:29d6487b 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              33:a1ead6e5 2:cec579c5 1:af86add3 2:b0f4b6cd 3:b171e322 4:49d1aa00 5:85756fd2 6:6c4ecaba
              7:48f1f143 8:9588f81d 9:0bb189ab 10:6ffbcaa8 2:4323524a 260:df8b955d 21:4512c208 34:f40da0ce
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a 27:83e14363 21:0990b9bd
              23:96a9e5c6 24:fea4889a 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 30:4ed8604e 10:902fabf3 13:05b45905
            gpt-2:chatglm-bpe|0|0
              6:6840fa1f 4:949f7966 0:00000000 1:13078c31 2:4ca13080 3:26a24901 1:6cd17e00 1:fc6e6391
              1:1ad5acdf 2:67f7b0f2 2:4ac7e96e 2:da3f8024 2:a701cc43 2:68cc6a6d 2:bb67a0da 3:f3307ce7
              4:935350fe 4:dde7d307 7:5679dd79 10:b5b62743 20:bc2c3cb5 57:37447bcc 34:08acce6b 1:7fca3bd7
              1:ee465a3a 2:d14f65c2 3:da0e6f53 4:acd5cb88 9:3bcf86ec 1:c3e0e562 2:2ba22f0a 2:a86c7223
              29:a1a20517 2:cec579c5 1:af86add3 1:00578726 1:7d1b2f0b 2:b465c7a7 2:e663a871 2:88f2df73
              3:23ed45db 3:665feb0f 3:3fcfbf0b 10:6ffbcaa8 2:4323524a 234:39c8abca 21:4512c208 26:4d72cb10
              22:e8a0988c 17:7a39011e 8:8ad2717a 18:86fb6f28 30:6712a5d7 23:3b848c9a 27:83e14363 21:0990b9bd
              22:3ffa8020 23:a65dff20 10:8553f3be 17:ccd2b33d 16:feaad5af 1:fc6e6391 1:13078c31 14:5b745699
              23:dd218361 31:22f0b469 29:a68b2416 10:902fabf3 13:05b45905
            deepseek-coder:llama-bpe|0|0
              6:9aa5202b 4:fdc4511e 0:00000000 1:bf557b10 1:dc547a0d 1:4982414a 1:ecc31efb 1:9bc42e6d
              2:9cf12457 3:32a5ee51 2:a1910de7 2:eafc1059 3:7500be34 2:29b52c7e 3:b6498213 4:3c685c2a
              4:e0b8f181 5:66a9302a 7:4262ee8b 12:7f851b97 5:9a6b22f0 57:ca2b42b6 41:3f1466b8 1:b7e7205b
              2:17b06522 3:37d57755 3:8ee7a4ad 3:690b34c7 7:246b35e9 1:0cb3135e 2:52e36cb4 2:4fbd4a8d
              28:af4e2ee6 2:06caadac 1:af86add3 2:b0f4b6cd 3:b171e322 4:49d1aa00 5:85756fd2 6:6c4ecaba
              7:48f1f143 8:9588f81d 9:0bb189ab 10:345e3069 2:fa2030ee 239:30d52464 24:3ee91b00 34:4bf459e5
              23:7f471c8f 16:9f6a2bd8 6:b67d6775 22:e45e1f0f 35:63379770 23:d2d71fbf 30:f7b8358d 21:608540bd
              22:dca22da1 23:b73b6957 13:97f997de 18:774a8457 18:eb3975ab 1:9bc42e6d 1:bf557b10 15:3740021c
              22:7997e00f 31:2ca8db9a 27:17e194de 13:911fcf26 14:5ed5631a
            llama-spm:nospace|0|0
              6:9569d0d3 3:f4ab9557 0:00000000 1:7b41bff6 1:259aa252 1:f130c150 1:4f5344cd 1:3854745b
              2:f027e844 3:f3a5e951 2:489b8f21 2:693b9f41 2:4031905d 2:a20db400 2:8b07bb1c 3:803a5c81
              4:bd73b4ef 4:1ee94465 9:3fb89c56 11:18aeab6e 6:1f29d70b 45:838e6d9a 39:31b1f8d3 1:aec2399a
              1:bd0719c9 2:90d95712 2:1d536afb 2:265fa2e0 5:9a01ac61 1:a0e1e47f 2:494d5f12 2:64dfb58f
              30:8c42bcc3 3:76cc4a18 1:51ae8602 2:e584db79 3:493a3497 4:e23f83c6 5:65f9ce23 6:344f6435
              7:8e305745 8:980653de 9:d7cc6b21 8:24a52260 2:94bc990f 236:e8179c9d 25:8cc1b148 34:1533c78d
              17:589f8ee1 16:f0ca43a9 5:f3923d93 19:fdfa6463 39:3d13c98f 23:a75f7697 18:8883cbc8 21:64e4b8e1
              22:4b40d6e7 23:b353ea0a 11:bd0235a4 13:3445b2ce 20:13f1aaf4 1:3854745b 1:7b41bff6 14:745efce6
              22:8b3a7883 24:b54858db 28:f711c2d0 13:10b6c916 4:ade006d3
            """;

    private record Group(String spec, boolean parseSpecial, int first, List<String> expected) {
    }

    static List<Group> groups() {
        List<Group> out = new ArrayList<>();
        String[] head = null;
        List<String> cur = null;
        for (String line : TABLE.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (!line.startsWith(" ")) {
                if (head != null) {
                    out.add(new Group(head[0], head[1].equals("1"), Integer.parseInt(head[2]), cur));
                }
                head = line.split("\\|");
                cur = new ArrayList<>();
            } else {
                cur.addAll(Arrays.asList(line.strip().split(" ")));
            }
        }
        out.add(new Group(head[0], head[1].equals("1"), Integer.parseInt(head[2]), cur));
        return out;
    }

    @TestFactory
    Stream<DynamicTest> matchesLlamaTokenize() {
        List<String> inputs = TokenizerTestInputs.allInputs();
        return groups().stream().map(g -> DynamicTest.dynamicTest(g.spec() + " parse_special=" + g.parseSpecial(), () -> {
            Tokenizer tok = TokenizerTestInputs.variant(g.spec());
            List<String> failures = new ArrayList<>();
            for (int k = 0; k < g.expected().size(); k++) {
                int i = g.first() + k;
                int[] ids = tok.encode(inputs.get(i), false, g.parseSpecial());
                String got = ids.length + ":" + TokenizerTestInputs.fingerprint(ids);
                if (!got.equals(g.expected().get(k))) {
                    failures.add("input #" + i + " '" + inputs.get(i) + "': expected " + g.expected().get(k) + ", got " + got
                            + " " + Arrays.toString(ids));
                }
            }
            assertTrue(failures.isEmpty(), String.join("\n", failures));
        }));
    }

    @TestFactory
    Stream<DynamicTest> tableCoversEveryInput() {
        int n = TokenizerTestInputs.allInputs().size();
        return groups().stream().map(g -> DynamicTest.dynamicTest(g.spec() + " " + g.parseSpecial(),
                () -> assertEquals(n, g.first() + g.expected().size())));
    }
}
