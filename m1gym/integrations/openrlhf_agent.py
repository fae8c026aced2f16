"""OpenRLHF agent file for the SWE agent env: ``--train.agent_func_path`` (<= 0.10.1:
``--agent_func_path``) = this file. OpenRLHF loads it by path and instantiates ``AgentExecutor``;
each prompt runs one ``m1gym/swe.agent-v0`` episode (see ``m1gym.integrations.openrlhf``)."""

from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor

from m1gym.integrations.openrlhf import SWEAgentInstance


class AgentInstance(SWEAgentInstance, AgentInstanceBase):
    pass


class AgentExecutor(MultiTurnAgentExecutor):
    def __init__(self):
        super().__init__(AgentInstance)
