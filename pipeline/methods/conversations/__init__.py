"""Multi-turn conversations, Vicuna/ShareGPT-style: each example of --from opens a conversation,
continued turn by turn by a user simulator and the assistant (UltraChat), or written whole by one
request (Baize's self-chat), every turn checked and paid once.

options.py, openings.py (the openings and their gate), turns.py (simulate: a user and an answer
stage per turn), selfchat.py (self-chat: one transcript, parsed strictly), checks.py (what every
turn must pass), recipe.py (the stages, and how their results become conversations), stats.py,
estimate.py, stub.py."""

from pipeline.estimate.models import CostModel
from pipeline.methods.conversations.estimate import conversations, conversations_written
from pipeline.methods.conversations.options import ConversationsOptions
from pipeline.methods.conversations.recipe import (
    GATE,
    OPENAI,
    SHAREGPT,
    ConversationsRecipe,
    write_chats,
)
from pipeline.methods.conversations.report import REPORT
from pipeline.methods.conversations.stub import RESPONDERS
from pipeline.methods.conversations.turns import NAME
from pipeline.methods.spec import Merge, MethodSpec, Outputs

CITE = """@inproceedings{ding2023ultrachat,
  title = {Enhancing Chat Language Models by Scaling High-quality Instructional Conversations},
  author = {Ding, Ning and Chen, Yulin and Xu, Bokai and Qin, Yujia and Zheng, Zhi and
            Hu, Shengding and Liu, Zhiyuan and Sun, Maosong and Zhou, Bowen},
  booktitle = {Proceedings of the 2023 Conference on Empirical Methods in Natural Language
               Processing},
  year = {2023},
}

@inproceedings{xu2023baize,
  title = {Baize: An Open-Source Chat Model with Parameter-Efficient Tuning on Self-Chat Data},
  author = {Xu, Canwen and Guo, Daya and Duan, Nan and McAuley, Julian},
  booktitle = {Proceedings of the 2023 Conference on Empirical Methods in Natural Language
               Processing},
  year = {2023},
}"""

SPEC = MethodSpec(
    name=NAME,
    summary="Multi-turn conversations: a user simulator and an assistant turn by turn "
    "(UltraChat), or self-chat transcripts (Baize).",
    options=ConversationsOptions,
    recipe=ConversationsRecipe,
    cost=CostModel(conversations, written=conversations_written, example_tokens=900.0),
    responders=RESPONDERS,
    out="data/conversations",
    gate=GATE,
    merge=Merge(),
    # The first is the dataset card's default config: every turn, as chat templates take it.
    outputs=Outputs((OPENAI, SHAREGPT), write_chats),
    report=REPORT,
    example={"limit": 12, "turns": "2-3"},
    description="Each example of the input opens a conversation. In the simulate mode a user "
    "simulator writes each next user message from the conversation so far and the assistant "
    "answers it, sent the whole conversation; in the self-chat mode one request writes the "
    "whole transcript. Every turn is checked (empty or cut-off turns, refusals, role leaks, "
    "repeated questions) and a conversation cut short keeps the turns before the failed one.",
    paper="Ding et al. 2023, UltraChat (EMNLP); Xu et al. 2023, Baize (EMNLP)",
    cite=CITE,
)
