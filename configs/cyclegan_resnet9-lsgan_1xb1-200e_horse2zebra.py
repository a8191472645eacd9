# CycleGAN as in the paper on horse2zebra: ResNet-9 generators, 70x70 PatchGAN,
# LSGAN, 256 px crops, batch 1 on 1 GPU, 100 + 100 epochs (linear decay).
# Data: data/horse2zebra/{trainA,trainB,testA,testB}
#   python tools/download_dataset.py horse2zebra
_base_ = [
    '_base_/models/cyclegan_resnet.py',
    '_base_/datasets/unpaired_256.py',
    '_base_/schedules/paper_200e.py',
    '_base_/default_runtime.py',
]

data_root = 'data/horse2zebra'
train_dataloader = dict(dataset=dict(data_root=data_root))
