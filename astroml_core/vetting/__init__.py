"""Collaborative vetting: users, campaigns of candidates, votes, comments, consensus and export.

One SQLAlchemy database (SQLite by default, PostgreSQL for a shared deployment) holds everything, so
any number of server processes can serve one campaign.
"""
from .consensus import Consensus, dawid_skene, majority
from .export import campaign_bytes, campaign_table, write_campaign
from .previews import decode_preview, encode_preview
from .store import (CampaignInfo, CandidateIn, CandidateInfo, CommentInfo, ConsensusRow, UserInfo, VettingStore,
                    ViewInfo, VoteInfo, open_store)

__all__ = ["VettingStore", "open_store", "CandidateIn", "CandidateInfo", "CampaignInfo", "CommentInfo",
           "ConsensusRow", "UserInfo", "ViewInfo", "VoteInfo", "Consensus", "majority", "dawid_skene",
           "campaign_table", "campaign_bytes",
           "write_campaign", "encode_preview", "decode_preview"]
