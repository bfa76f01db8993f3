"""1-D networks for spectra: a small, fast classifier (members of a deep ensemble) and a VAE.

Speed on CPU decides the layout. A 1-D convolution in channels-first layout is ~4× slower in torch
than the same convolution written as a (1 × k) 2-D one on a channels-last tensor, so every conv here
is Conv2d on (N, C, 1, L) in channels-last memory. The first layer is a patch embedding (a linear map of
each 8-pixel patch of flux and noise, no overlap), which keeps every pixel's information at 1/8 of the
length; the strided convolutions after it see lines of any width up to the continuum.

Out of training (``eval()``), a trunk runs a faster form of the same function (issue 31: 40,000 spectra
classified in ≤ 5 s on 2 cores): the patch embedding as a (1 × patch) convolution with stride patch on the
channels-last input (as a K = 16 matrix product it ran at a third of the other convolutions' FLOP rate; as a
convolution it takes a quarter less time and gives the same numbers), each BatchNorm folded into the
convolution before it (one pass over the activations less per layer), and ReLU in place. The outputs match
the layer-by-layer form within float32 rounding (probabilities ~2e-6; ``tests/core/tasks/
test_spectra_fast_path.py``). Training runs the layers as built, so retraining is unchanged. Stacking the
three members into grouped convolutions was measured too and is slower (13.5 vs 9.0 CPU-s for 40k, one thread).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .protocol import Carded, SpectraPrediction

__all__ = ["SpectrumClassifier", "ClassifierEnsemble", "SpectrumVAE", "SpectraModel"]


class _Trunk(nn.Module):
    """Patch embedding + strided (1 × k) convolutions → mean- and max-pooled features (2 · widths[-1])."""

    def __init__(self, in_channels: int, patch: int, widths: tuple[int, ...], kernels: tuple[int, ...]):
        super().__init__()
        self.patch = patch
        self.embed = nn.Linear(in_channels * patch, widths[0])
        layers, c = [], widths[0]
        for w, k in zip(widths[1:], kernels):
            layers += [nn.Conv2d(c, w, (1, k), stride=(1, 2), padding=(0, k // 2)), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        self.convs = nn.Sequential(*layers)
        self.out_features = 2 * c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, L, C_in) → features (N, 2 · widths[-1])."""
        h = self._layers(x) if self.training else self._folded(x)
        return torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)

    def _layers(self, x: torch.Tensor) -> torch.Tensor:
        """The layers as built (training: BatchNorm uses and updates the batch statistics)."""
        n, length, c = x.shape
        h = torch.relu(self.embed(x.reshape(n, length // self.patch, c * self.patch)))
        h = h.view(n, 1, length // self.patch, -1).permute(0, 3, 1, 2)       # channels-last (N, C, 1, L')
        return self.convs(h)

    def _folded(self, x: torch.Tensor) -> torch.Tensor:
        """``_layers`` in eval mode, faster (see the module docstring); differentiable in x (saliency).

        The folded weights are recomputed on each call (a few hundred µs a batch) rather than cached, so they
        can never go stale after ``load_state_dict`` or ``to(device)``.
        """
        n, length, c = x.shape
        h = x.reshape(n, 1, length, c).permute(0, 3, 1, 2)                   # channels-last (N, C_in, 1, L)
        # embed.weight[o, p·C_in + c] (a patch's pixels, each with its C_in channels) as a conv kernel [o, c, 0, p]
        w = self.embed.weight.view(-1, self.patch, c).permute(0, 2, 1).unsqueeze(2)
        h = torch.relu_(F.conv2d(h, w, self.embed.bias, stride=(1, self.patch)))
        layers = list(self.convs)                                           # (conv, BatchNorm, ReLU) × n
        for conv, bn in zip(layers[0::3], layers[1::3]):
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            bias = (conv.bias - bn.running_mean) * scale + bn.bias
            h = torch.relu_(F.conv2d(h, conv.weight * scale[:, None, None, None], bias, conv.stride, conv.padding))
        return h


class SpectrumClassifier(nn.Module):
    """One ensemble member: trunk + linear head; input (N, L, 2) = (normalised flux, normalised σ)."""

    def __init__(self, n_classes: int = 13, patch: int = 8, widths: tuple[int, ...] = (24, 32, 48, 64),
                 kernels: tuple[int, ...] = (5, 5, 3)):
        super().__init__()
        self.trunk = _Trunk(2, patch, widths, kernels)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(self.trunk.out_features, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.trunk(x)))


class ClassifierEnsemble(nn.Module):
    """A deep ensemble (independently initialised and trained members) with a fitted temperature.

    ``forward`` returns the members' logits (K, N, classes); ``features`` the first member's pooled
    features, the learned representation that embeddings and the feature-space anomaly score use.
    """

    def __init__(self, members: int = 3, n_classes: int = 13, **kwargs):
        super().__init__()
        self.members = nn.ModuleList([SpectrumClassifier(n_classes, **kwargs) for _ in range(members)])
        self.register_buffer("temperature", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.members[0].trunk(x)

    def logits_and_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Members' logits (K, N, C) and each member's features, at the cost of one pass per member."""
        feats = [m.trunk(x) for m in self.members]
        logits = torch.stack([m.head(f) for m, f in zip(self.members, feats)])
        return logits, feats


class SpectrumVAE(nn.Module):
    """A VAE of spectra binned to L/4 pixels: conv encoder → latent (default 12) → MLP decoder.

    The decoder predicts the normalised flux in each bin; the loss is χ² with the bins' inverse
    variances (so noise is not "reconstructed") plus the KL term, and χ²/bin is the anomaly score.
    """

    def __init__(self, n_bins: int = 960, latent: int = 12, widths: tuple[int, ...] = (32, 48, 64),
                 kernels: tuple[int, ...] = (5, 5)):
        super().__init__()
        self.encoder = _Trunk(2, 4, widths, kernels)
        self.to_latent = nn.Linear(self.encoder.out_features, 2 * latent)
        self.decoder = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                                     nn.Linear(512, n_bins))
        self.latent = latent

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, n_bins, 2) → (mean, log variance) of q(z | x)."""
        mu, logvar = self.to_latent(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode(z), mu, logvar


class SpectraModel(nn.Module, Carded):
    """What ships as ``spectra_net``: the classifier ensemble, the VAE and the anomaly score's statistics.

    The anomaly score is feature-space novelty (Lee+2018): for each member, the Mahalanobis distance of
    its features to the nearest class mean under a shared covariance (fitted on training spectra); the
    log distances are averaged over members and put on a robust z scale by their median and spread on
    normal validation spectra. The VAE's χ² is kept beside it as a second opinion: on validation
    unexpected kinds (seed 71001) it separated them less well (AUROC 0.85 vs 0.93) and adding it to the
    score made the score worse, so it is not part of it.
    """

    def __init__(self, n_classes: int = 13, members: int = 3, latent: int = 12):
        super().__init__()
        self.ensemble = ClassifierEnsemble(members, n_classes)
        n_features = self.ensemble.members[0].trunk.out_features
        self.vae = SpectrumVAE(latent=latent)
        self.register_buffer("class_means", torch.zeros(members, n_classes, n_features))
        self.register_buffer("precision", torch.eye(n_features).repeat(members, 1, 1))
        self.register_buffer("log_maha_ref", torch.tensor([0.0, 1.0]))      # median, robust σ

    def log_mahalanobis(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Mean over members of the log squared Mahalanobis distance to the nearest class mean."""
        logs = []
        for k, f in enumerate(feats):
            d = f[:, None, :] - self.class_means[k][None]
            dist = torch.einsum("ncf,fg,ncg->nc", d, self.precision[k], d).amin(dim=1)
            logs.append(torch.log(dist.clamp_min(1e-6)))
        return torch.stack(logs).mean(dim=0)

    def anomaly(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Robust z-score of the novelty: ~0 for typical spectra, > 3 for the strange ones."""
        return (self.log_mahalanobis(feats) - self.log_maha_ref[0]) / self.log_maha_ref[1]

    def member_probs(self, logits: torch.Tensor) -> torch.Tensor:
        """Each member's temperature-scaled softmax (K, N, C) of its logits."""
        return torch.softmax(logits / self.ensemble.temperature, dim=-1)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """The members' mean class probabilities (N, C) of normalised spectra (N, L, 2); differentiable."""
        return self.member_probs(self.ensemble(x)).mean(dim=0)

    def predict(self, x: torch.Tensor, xb: torch.Tensor) -> SpectraPrediction:
        """The spectra task's outputs from normalised spectra (N, L, 2) and their 4-pixel bins (N, L/4, 2):
        one pass per member and one through the VAE (see :class:`~.protocol.SpectraClassifier`)."""
        logits, feats = self.ensemble.logits_and_features(x)
        mu, _ = self.vae.encode(xb)
        return SpectraPrediction(self.member_probs(logits), feats[0], self.anomaly(feats), mu, self.vae.decode(mu))
